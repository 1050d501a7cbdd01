#!/usr/bin/env python3
"""PyTorch / cuDNN on the weights of benchmarks/StaticRnn.CudaBench: the other side of the GPU comparison.

For every model (Models/<name>.safetensors, written by tools/make_gpu_benchmark_models.py) this script builds the
same ``nn.LSTM`` / ``nn.GRU`` (one layer, batch_first), eval, ``torch.no_grad()``, float32 on the GPU, and

  * checks it with TF32 off against PyTorch's float64 reference (Models/<name>.reference.safetensors: 8 sequences,
    max |diff| <= 1e-5, the output after the last step and h_n), and at batch 65,536 the first 64 sequences of a
    timed run against a float64 CPU recomputation (so the timed configuration is known to be right);
  * times two rows: ``fp32`` (TF32 off: ``torch.backends.cudnn.allow_tf32 = False`` and
    ``torch.backends.cuda.matmul.allow_tf32 = False``, or on PyTorch >= 2.9 the same through the new
    ``fp32_precision = "ieee"`` settings, never mixing the two APIs) and ``default`` (PyTorch's own defaults:
    cuDNN may use TF32);
  * per row: ``resident``: inputs already on the GPU, CUDA events around the forward call; ``pinned`` and
    ``pageable``: wall clock from host inputs (pinned or pageable memory) to the last hidden state back in host memory
    (host-to-device copy, forward, device-to-host copy of h_n, synchronize); warm-up first, then the median (and
    min/max) of --repeats runs, rotating among 3 input sets (random, never zeros).

cuDNN computes and writes the whole output sequence [B, T, H] (PyTorch has no many-to-one mode); StaticRnn writes
only the last state. That is part of what is compared.

Usage (on the GPU machine, from the repository root; needs torch with CUDA and numpy, nothing else):
    python3 tools/cudnn_bench.py [--json PATH] [--repeats 20] [--warmup 3] [--batch 65536] [--models a,b]
    python3 tools/cudnn_bench.py --device cpu --batch 64 --repeats 2   # a smoke test of the script without a GPU
Exit 0: every check passed; 1: a check failed; 2: no CUDA device.
"""

import argparse
import json
import os
import struct
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS_DIR = os.path.join(ROOT, "benchmarks", "StaticRnn.CudaBench", "Models")
MODELS = [  # name, cell, input size, hidden; T = 100
    ("lstm_16_64", "lstm", 16, 64),
    ("lstm_16_128", "lstm", 16, 128),
    ("gru_16_64", "gru", 16, 64),
    ("gru_16_128", "gru", 16, 128),
]
T = 100
TOLERANCE = 1e-5
INPUT_SETS = 3
CHECKED = 64  # sequences of a timed batch recomputed in float64 on the CPU


def read_safetensors(path):
    """name -> numpy array in the file's own dtype (F32, F64)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=dtype).reshape(info["shape"]).copy()
    return out


# ------------------------------------------------------------------------------------------
# TF32 settings: the new API (PyTorch >= 2.9, fp32_precision) where it exists, else the legacy flags; never both,
# since PyTorch raises when the two disagree.
# ------------------------------------------------------------------------------------------

def new_tf32_api():
    try:
        return all(hasattr(_module(path), attr) for path, attr in NEW_API_KEYS)
    except AttributeError:
        return False


# The settings each row sets, by (module path, attribute). With the new API cuDNN's parent flag, conv and rnn are set
# together: PyTorch raises when a generic cuDNN TF32 check finds conv and rnn disagreeing.
NEW_API_KEYS = [("cudnn", "fp32_precision"), ("cudnn.conv", "fp32_precision"), ("cudnn.rnn", "fp32_precision"),
                ("cuda.matmul", "fp32_precision")]
LEGACY_KEYS = [("cudnn", "allow_tf32"), ("cuda.matmul", "allow_tf32")]


def _module(path):
    m = torch.backends
    for part in path.split("."):
        m = getattr(m, part)
    return m


def tf32_state():
    keys = NEW_API_KEYS if new_tf32_api() else LEGACY_KEYS
    return {f"{path}.{attr}": getattr(_module(path), attr) for path, attr in keys}


def set_tf32_state(state):
    for key, value in state.items():
        path, attr = key.rsplit(".", 1)
        setattr(_module(path), attr, value)


def fp32_state():
    if new_tf32_api():
        return {f"{path}.{attr}": "ieee" for path, attr in NEW_API_KEYS}
    return {f"{path}.{attr}": False for path, attr in LEGACY_KEYS}


def rate(per_second):
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f} k"
    return f"{per_second:.0f}"


# ------------------------------------------------------------------------------------------

def build(cell, input_size, hidden, weights, device, dtype=torch.float32):
    cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    rnn = cls(input_size, hidden, num_layers=1, batch_first=True)
    state = {k[len("rnn."):]: torch.from_numpy(v) for k, v in weights.items()}
    rnn.load_state_dict(state, strict=True)
    return rnn.to(device=device, dtype=dtype).eval()


def last_state(rnn, cell, x):
    """(output after the last step, h_n of the layer): both must be the many-to-one state."""
    out, h = rnn(x)
    hn = h[0] if cell == "lstm" else h
    return out[:, -1, :], hn[0]


def stats(samples):
    s = sorted(samples)
    n = len(s)
    median = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return {"median": median, "min": s[0], "max": s[-1], "samples": samples}


def max_abs(a, b):
    """max |a - b| as float64; inf if either has a NaN/inf."""
    a = a.detach().to("cpu", torch.float64)
    b = b.detach().to("cpu", torch.float64)
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return float("inf")
    return float((a - b).abs().max())


class Timer:
    """CUDA events on a GPU (device-side time of the enclosed work), perf_counter + synchronize elsewhere."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def start(self):
        if self.cuda:
            self.begin = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)
            self.begin.record()
        else:
            self.t0 = time.perf_counter()

    def stop_ms(self):
        if self.cuda:
            self.end.record()
            self.end.synchronize()
            return self.begin.elapsed_time(self.end)
        return (time.perf_counter() - self.t0) * 1e3


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_row(name, cell, rnn, xs_dev, xs_pinned, xs_pageable, device, repeats, warmup, cpu64, failures, row):
    """Times one configuration (the TF32 settings in force); checks its outputs. Returns the row's dict."""
    timer = Timer(device)
    hidden = rnn.hidden_size
    batch = xs_dev[0].shape[0]
    result = {}

    # Device-resident: the inputs are on the GPU; events around the forward call alone.
    for i in range(warmup):
        last_state(rnn, cell, xs_dev[i % INPUT_SETS])
    sync(device)
    samples = []
    last = [None] * INPUT_SETS
    for i in range(repeats):
        k = i % INPUT_SETS
        timer.start()
        y, hn = last_state(rnn, cell, xs_dev[k])
        samples.append(timer.stop_ms())
        last[k] = hn
    result["residentMs"] = stats(samples)

    # Check what was timed: every output finite, the first CHECKED sequences against float64 on the CPU.
    errors = []
    for k in range(INPUT_SETS):
        if last[k] is None:
            continue
        if not torch.isfinite(last[k]).all():
            errors.append(float("inf"))
            continue
        errors.append(max_abs(last[k][:CHECKED], cpu64[k]))
    result["largeBatchMaxAbs"] = max(errors) if errors else None

    # End to end from host memory: H2D copy of the inputs, forward, D2H copy of h_n into a NaN-poisoned host buffer.
    for kind, xs in (("pinned", xs_pinned), ("pageable", xs_pageable)):
        dest = torch.empty((batch, hidden), dtype=torch.float32, pin_memory=(kind == "pinned" and device.type == "cuda"))
        nonblocking = kind == "pinned"
        for i in range(warmup):
            x = xs[i % INPUT_SETS].to(device, non_blocking=nonblocking)
            _, hn = last_state(rnn, cell, x)
            dest.copy_(hn, non_blocking=nonblocking)
        sync(device)
        samples = []
        unwritten = 0
        for i in range(repeats):
            dest.fill_(float("nan"))
            sync(device)
            t0 = time.perf_counter()
            x = xs[i % INPUT_SETS].to(device, non_blocking=nonblocking)
            _, hn = last_state(rnn, cell, x)
            dest.copy_(hn, non_blocking=nonblocking)
            sync(device)
            samples.append((time.perf_counter() - t0) * 1e3)
            unwritten += int(torch.isnan(dest).sum())
            err = max_abs(dest[:CHECKED], cpu64[i % INPUT_SETS])
            result["largeBatchMaxAbs"] = max(result["largeBatchMaxAbs"] or 0.0, err)
        result[kind + "Ms"] = stats(samples)
        if unwritten:
            failures.append(f"{name} {row} {kind}: {unwritten} outputs not copied back (NaN)")

    seconds = result["residentMs"]["median"] / 1e3
    result["residentSeqPerSecond"] = batch / seconds
    result["pinnedSeqPerSecond"] = batch / (result["pinnedMs"]["median"] / 1e3)
    result["pageableSeqPerSecond"] = batch / (result["pageableMs"]["median"] / 1e3)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=65536)
    parser.add_argument("--models", help="comma-separated subset of " + ",".join(m[0] for m in MODELS))
    parser.add_argument("--models-dir", default=MODELS_DIR)
    parser.add_argument("--seed", type=int, help="input seed (default: a new one each run)")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a smoke test of this script)")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: torch.cuda.is_available() is False")
        return 2
    models = MODELS
    if args.models:
        wanted = args.models.split(",")
        models = [m for m in MODELS if m[0] in wanted]
        unknown = set(wanted) - {m[0] for m in models}
        if unknown:
            parser.error(f"unknown model(s) {sorted(unknown)}")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    batch = args.batch

    defaults = tf32_state()
    api = "fp32_precision (new)" if new_tf32_api() else "allow_tf32 (legacy)"
    info = {
        "tool": "cudnn_bench.py",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "computeCapability": ".".join(map(str, torch.cuda.get_device_capability(device))) if device.type == "cuda" else None,
        "batch": batch, "sequenceLength": T, "repeats": args.repeats, "warmup": args.warmup, "inputSets": INPUT_SETS,
        "seed": seed, "tf32Api": api, "defaultTf32Settings": defaults, "fp32Tf32Settings": fp32_state(),
        "residentTiming": "CUDA events around the forward call, inputs already on the GPU",
        "hostTiming": "perf_counter: H2D copy of the inputs, forward, D2H copy of h_n, synchronize",
    }
    print(f"PyTorch {info['torch']} (CUDA {info['cuda']}, cuDNN {info['cudnn']}) on {info['device']} "
          f"(compute capability {info['computeCapability']}); batch {batch}, T = {T}, {args.warmup} warm-up + "
          f"{args.repeats} timed runs, {INPUT_SETS} input sets, seed {seed}")
    print(f"TF32 API: {api}; defaults {defaults}; fp32 row {fp32_state()}")

    torch.backends.cudnn.benchmark = False
    gen = torch.Generator(device="cpu").manual_seed(seed)
    # Random inputs in [-1, 1) (never zeros), made on the CPU once and shared by every model (all take 16 x 100).
    xs_pageable = [torch.rand((batch, T, 16), generator=gen) * 2.0 - 1.0 for _ in range(INPUT_SETS)]
    xs_pinned = [x.pin_memory() for x in xs_pageable] if device.type == "cuda" else xs_pageable
    xs_dev = [x.to(device) for x in xs_pageable]

    failures = []
    results = []
    with torch.no_grad():
        for name, cell, input_size, hidden in models:
            assert input_size == 16
            weights = read_safetensors(os.path.join(args.models_dir, name + ".safetensors"))
            ref = read_safetensors(os.path.join(args.models_dir, name + ".reference.safetensors"))
            rnn = build(cell, input_size, hidden, weights, device)
            cpu64 = build(cell, input_size, hidden, weights, "cpu", torch.float64)
            expected_big = [last_state(cpu64, cell, x[:CHECKED].double())[0] for x in xs_pageable]
            expected = torch.from_numpy(ref["expected"])
            x_ref = torch.from_numpy(ref["input"]).to(device)
            gates = 4 if cell == "lstm" else 3
            entry = {"name": name, "cell": cell, "inputSize": input_size, "hidden": hidden,
                     "flopsPerSequence": 2 * gates * hidden * (input_size + hidden) * T, "rows": {}}
            print(f"\n{name}:")
            for row in ("fp32", "default"):
                try:
                    set_tf32_state(fp32_state() if row == "fp32" else defaults)
                    y, hn = last_state(rnn, cell, x_ref)
                    err = max(max_abs(y, expected), max_abs(hn, expected))
                    r = run_row(name, cell, rnn, xs_dev, xs_pinned, xs_pageable, device, args.repeats, args.warmup,
                                expected_big, failures, row)
                except Exception as e:  # noqa: BLE001 - one row's failure must not lose the others
                    traceback.print_exc()
                    failures.append(f"{name} {row}: {type(e).__name__}: {e}")
                    continue
                r["referenceMaxAbs"] = err
                entry["rows"][row] = r
                ok = err <= TOLERANCE and r["largeBatchMaxAbs"] is not None and r["largeBatchMaxAbs"] <= TOLERANCE
                if row == "fp32" and not ok:
                    failures.append(f"{name} fp32: vs PyTorch float64 reference {err:.3g}, "
                                    f"batch {batch} first {CHECKED} vs float64 CPU {r['largeBatchMaxAbs']:.3g} (limit {TOLERANCE:g})")
                status = ("ok  " if ok else "FAIL") if row == "fp32" else "info"
                print(f"  {status} {row:7}: vs reference {err:.2e}, batch {batch} vs float64 CPU {r['largeBatchMaxAbs']:.2e}; "
                      f"resident {r['residentMs']['median']:.3f} ms ({r['residentMs']['min']:.3f}-{r['residentMs']['max']:.3f}), "
                      f"pinned {r['pinnedMs']['median']:.3f} ms, pageable {r['pageableMs']['median']:.3f} ms", flush=True)
            set_tf32_state(defaults)
            results.append(entry)
            del rnn
            if device.type == "cuda":
                torch.cuda.empty_cache()

    print(f"\nPyTorch {info['torch']} cuDNN {info['cudnn']}, {info['device']}, batch {batch}, T = {T}, median of {args.repeats} (min-max)\n")
    print("| model | row | resident ms | resident seq/s | resident GFLOP/s | pinned H2D+fwd+D2H ms | pageable ms | pinned seq/s |")
    print("|---|---|---|---|---|---|---|---|")
    for e in results:
        for row, r in e["rows"].items():
            res = r["residentMs"]
            gflops = e["flopsPerSequence"] * batch / (res["median"] / 1e3) / 1e9
            r["residentGflops"] = gflops
            print(f"| {e['name']} | {row} | {res['median']:.3f} ({res['min']:.3f}-{res['max']:.3f}) | "
                  f"{rate(r['residentSeqPerSecond'])} | {gflops:.0f} | {r['pinnedMs']['median']:.3f} "
                  f"({r['pinnedMs']['min']:.3f}-{r['pinnedMs']['max']:.3f}) | {r['pageableMs']['median']:.3f} | "
                  f"{rate(r['pinnedSeqPerSecond'])} |")

    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(dict(info, models=results, failures=failures), f, indent=2)
            f.write("\n")
        print(f"\nJSON: {args.json}")
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for f in failures:
            print(f"  - {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
