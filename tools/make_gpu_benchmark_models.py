#!/usr/bin/python3
"""Models and PyTorch references for the GPU checks and timings (benchmarks/StaticRnn.CudaBench).

For every model in MODELS below this script

  * builds ``nn.LSTM`` / ``nn.GRU`` (one layer, batch_first) registered as ``rnn`` in a module with no
    head, under a fixed seed with PyTorch's default initialisation (the benchmarks time the models,
    they need no trained weights);
  * writes the ``state_dict()`` to ``<name>.safetensors`` (F32, tools/safetensors_io.py), the file the
    C# declaration ``[Lstm(H, Weights = "rnn")]`` compiles;
  * writes ``<name>.reference.safetensors``: 8 random float32 input sequences (uniform in [-1, 1))
    ``input`` F32 [8, T, in] and PyTorch's outputs for them ``expected`` F64 [8, H], the module and
    the inputs converted with ``.double()`` and run on the CPU. StaticRnn's semantics: the hidden
    state after the last step, ``rnn(x)[0][:, -1, :]`` (many-to-one). The C# program
    (``check``) and tools/cudnn_bench.py both read this file, so the GPU results of both are checked
    against the same numbers without Python in the C# program;
  * checks that the float32 module is within 1e-5 of the float64 reference (so the checks' 1e-5
    tolerance is achievable in float32) and that the files read back.

Deterministic: fixed seeds, one torch thread; re-running rewrites byte-identical files.

Usage (from the repository root; needs torch and numpy, no safetensors package):
    /usr/bin/python3 tools/make_gpu_benchmark_models.py [--out benchmarks/StaticRnn.CudaBench/Models]
"""

import argparse
import hashlib
import os
import sys
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

CHECK_TOLERANCE = 1e-5
REFERENCE_SEQUENCES = 8

Spec = namedtuple("Spec", "name cell input_size hidden T")

MODELS = [
    Spec("lstm_16_64", "lstm", 16, 64, 100),
    Spec("lstm_16_128", "lstm", 16, 128, 100),
    Spec("gru_16_64", "gru", 16, 64, 100),
    Spec("gru_16_128", "gru", 16, 128, 100),
]


class Net(nn.Module):
    """LSTM/GRU (batch_first, one layer), many-to-one, no head."""

    def __init__(self, spec):
        super().__init__()
        cls = {"lstm": nn.LSTM, "gru": nn.GRU}[spec.cell]
        self.rnn = cls(spec.input_size, spec.hidden, num_layers=1, batch_first=True)

    def forward(self, x):
        out, _ = self.rnn(x)
        return out[:, -1, :]


def flops_per_sequence(spec):
    gates = {"lstm": 4, "gru": 3}[spec.cell]
    return 2 * gates * spec.hidden * (spec.input_size + spec.hidden) * spec.T


def make(spec, out_dir, seed):
    torch.manual_seed(seed)
    net = Net(spec).eval()
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    assert sorted(state) == ["rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"], sorted(state)

    st_path = os.path.join(out_dir, spec.name + ".safetensors")
    write_safetensors(st_path, state)
    back = read_safetensors(st_path)
    assert sorted(back) == sorted(state)
    for k in state:
        assert np.array_equal(back[k], state[k].numpy().astype(np.float64)), k

    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.rand((REFERENCE_SEQUENCES, spec.T, spec.input_size), generator=gen) * 2.0 - 1.0   # float32
    with torch.no_grad():
        y64 = net.double()(x.double())
        net.float()
        y32 = net(x)
        # h_n of the same call must be the last step's output (the many-to-one state).
        _, hn = net.double().rnn(x.double())
        hn = hn[0] if spec.cell == "lstm" else hn
        assert torch.equal(hn[0], y64), spec.name
        net.float()
    err32 = float((y32.double() - y64).abs().max())
    assert err32 <= CHECK_TOLERANCE, f"{spec.name}: float32 module vs float64 {err32:.3g}"
    assert y64.dtype == torch.float64 and tuple(y64.shape) == (REFERENCE_SEQUENCES, spec.hidden)

    ref_path = os.path.join(out_dir, spec.name + ".reference.safetensors")
    write_safetensors(ref_path, {"input": x.contiguous(), "expected": y64.contiguous()})
    ref = read_safetensors(ref_path)
    assert np.array_equal(ref["input"], x.numpy().astype(np.float64))
    assert np.array_equal(ref["expected"], y64.numpy())

    params = sum(t.numel() for t in state.values())
    return err32, params, st_path, ref_path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(root, "benchmarks", "StaticRnn.CudaBench", "Models"))
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    print(f"{'model':12} {'params':>7} {'MFLOP/seq':>9} {'f32 err':>9}  weights       reference (sha256[:12])")
    for n, spec in enumerate(MODELS):
        err, params, st, ref = make(spec, args.out, seed=3000 + 17 * n)
        print(f"{spec.name:12} {params:7d} {flops_per_sequence(spec) / 1e6:9.3f} {err:9.2e}  "
              f"{digest(st)}  {digest(ref)}")


if __name__ == "__main__":
    main()
