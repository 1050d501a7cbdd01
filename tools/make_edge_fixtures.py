#!/usr/bin/python3
"""Numeric edge cases: what PyTorch computes for extreme inputs, for EdgeCaseTests.

For a few of the reference models of make_fixtures.py (their committed weights, rebuilt by the same seeded
code and checked byte for byte against the committed .safetensors), feeds inputs of +-1e30, +-3e38, +-inf,
NaN, denormals (+-1e-40) and zeros, alone or mixed into an ordinary sequence, and records PyTorch's float64
outputs (and per-step outputs for unidirectional models), and its float32 outputs too: where huge inputs
cancel (a relu network fed 1e30), float32 arithmetic is only as exact as the cancellation allows. How exact
that is shows in how far PyTorch's own float32 results lie from float64: "expected32" is the farther of two
float32 runs, one as stored and one with the input features and hidden units in reverse order (the same
function, summed in another order). NaN and infinities are written as the strings
"NaN", "Infinity" and "-Infinity" (System.Text.Json's named floating-point literals), since JSON has no
such numbers.

Writes tests/StaticRnn.Tests/Fixtures/Edge/<model>.json. Usage: /usr/bin/python3 tools/make_edge_fixtures.py
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

MODELS = ["rnn_uni_1l", "rnn_relu", "rnn_sigmoid", "lstm_uni_1l", "lstm_h33_seq", "gru_uni_1l", "gru_uni_1l_seq",
          "lstm_bi_1l", "gru_bi_1l", "rnn_bi_1l"]

INF, NAN = math.inf, math.nan


def cases(T, I, ordinary):
    """(name, [T][I] input) pairs. `ordinary` is one of the model's own reference inputs."""
    def full(v):
        return [[v] * I for _ in range(T)]

    def spike(v, t=None, j=0):
        x = [row[:] for row in ordinary]
        x[T // 2 if t is None else t][j] = v
        return x

    alternating = [[(1e30 if (t + j) % 2 == 0 else -1e30) for j in range(I)] for t in range(T)]
    return [
        ("all +1e30", full(1e30)),
        ("all -1e30", full(-1e30)),
        ("alternating +-1e30", alternating),
        ("all +3e38", full(3e38)),
        ("all +inf", full(INF)),
        ("all -inf", full(-INF)),
        ("all NaN", full(NAN)),
        ("all +1e-40 (denormal)", full(1e-40)),
        ("all -1e-40 (denormal)", full(-1e-40)),
        ("all zero", full(0.0)),
        ("+1e30 at one step", spike(1e30)),
        ("+inf at the first step", spike(INF, 0)),
        ("-inf at one step", spike(-INF)),
        ("NaN at one step", spike(NAN)),
        ("NaN at the last step", spike(NAN, T - 1)),
    ]


def reversed_order(fx, stored):
    """The same network with its input features and hidden units numbered backwards: one recurrent layer
    (either direction) and a Dense head, as the edge-case models have."""
    rec, dense = fx.layers[0], fx.layers[-1]
    assert rec.kind in mf.REC_KINDS and rec.layers == 1 and dense.kind == "dense" and len(fx.layers) == 2, fx.name
    H, G = rec.hidden, {"lstm": 4, "gru": 3, "rnn": 1}[rec.kind]
    out = {}
    for key, value in stored.items():
        name = key.split(".")[-1]
        if key.startswith(dense.path + "."):
            if name == "weight":
                parts = 2 if rec.bi and (rec.merge or "Concat") == "Concat" else 1
                value = value.reshape(value.shape[0], parts, H).flip(2).reshape(value.shape[0], -1)
        elif name.startswith("weight_ih"):
            value = value.reshape(G, H, -1).flip(1).flip(2).reshape(G * H, -1)
        elif name.startswith("weight_hh"):
            value = value.reshape(G, H, H).flip(1).flip(2).reshape(G * H, H)
        elif name.startswith("bias_"):
            value = value.reshape(G, H).flip(1).reshape(G * H)
        out[key] = value.contiguous()
    return out


def literal(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def make(name, out_dir):
    fx = next(f for f in mf.FIXTURES if f.name == name)
    r = mf.build_fixture(fx)
    committed = read_safetensors(os.path.join(out_dir, "..", name + ".safetensors"))
    for key, value in r["stored"].items():
        assert torch.equal(torch.from_numpy(committed[key].copy()).to(value.dtype), value), f"{name}: {key} differs from the committed file"

    ordinary = r["x"][0].tolist()
    names, inputs = zip(*cases(fx.T, fx.I, ordinary))
    # The model sees float32: round the inputs as C# will hold them (1e-40 stays a float32 denormal).
    x32 = torch.tensor(inputs, dtype=torch.float32)

    def run(dtype, reverse=False):
        root, _ = mf._build_root(fx)
        root = root.to(dtype)
        stored = reversed_order(fx, r["stored"]) if reverse else r["stored"]
        root.load_state_dict({k: v.to(dtype) for k, v in stored.items()}, strict=True)
        root.eval()
        mods = mf._modules_by_path(fx, root)
        x = (x32.flip(2) if reverse else x32).to(dtype)
        with torch.no_grad():
            y = mf.forward(fx, mods, x).reshape(len(names), -1).double()
            s = None if fx.bidirectional else mf.forward(fx, mods, x, step_mode=True).reshape(len(names), -1).double()
        return y, s

    y, s = run(torch.float64)
    yr, sr = run(torch.float64, reverse=True)
    assert mf._same(yr, y) or (yr - y).abs().nan_to_num().max() <= 1e-9 * y.abs().nan_to_num().max().clamp(min=1), \
        f"{name}: the reversed network is not the same function"

    def farther(a, b, ref):
        return torch.where((b - ref).abs().nan_to_num(nan=-1) > (a - ref).abs().nan_to_num(nan=-1), b, a)

    y32, s32 = run(torch.float32)
    yr32, sr32 = run(torch.float32, reverse=True)
    y32 = farther(y32, yr32, y)
    s32 = None if s is None else farther(s32, sr32, s)
    x = x32.double()

    doc = {
        "name": name,
        "cases": [
            {
                "case": names[i],
                "input": [literal(v) for v in x[i].reshape(-1).tolist()],
                "expected": [literal(v) for v in y[i].tolist()],
                "expected32": [literal(v) for v in y32[i].tolist()],
                "stepExpected": None if s is None else [literal(v) for v in s[i].tolist()],
                "stepExpected32": None if s is None else [literal(v) for v in s32[i].tolist()],
            }
            for i in range(len(names))
        ],
    }
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    nan_outputs = sum(1 for i in range(len(names)) if torch.isnan(y[i]).any())
    print(f"{name:16s} {len(names)} cases, {nan_outputs} with NaN outputs")


def main():
    root_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root_dir, "tests", "StaticRnn.Tests", "Fixtures", "Edge")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in MODELS:
        make(name, out_dir)


if __name__ == "__main__":
    main()
