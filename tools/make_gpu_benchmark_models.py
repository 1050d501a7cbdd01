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

It also writes a few small check-only models (CHECK_MODELS below; ``check`` runs them, ``bench`` does
not time them) that exercise the other code paths of the generated CUDA kernels: token input through
an Embedding, stacked and bidirectional layers with the Sum, Concat and Average merges, sequence
outputs through scratch memory, Dense heads with a softmax per step, a sigmoid and a tanh, a ReLU
SimpleRnn of 300 units (a thread owns two units) and a reset-before GRU with the Multiply merge.
Same two files each, same reference format (8 sequences; ``expected`` F64 [8, OutputSize], per-step
outputs flattened step-major as ``PredictBatch`` writes them), PyTorch's float64 outputs: nn modules
(``emb``, ``rnn``, ``fc``) converted with ``.double()``, except the reset-before GRU, which PyTorch
lacks: explicit float64 torch ops over an ``nn.GRU``'s parameters (the same loop in its reset-after
form must reproduce ``nn.GRU`` within 1e-12). Token models store their token ids in ``input`` as
float32 values, shape [8, T, 1] (InputSize is 1 for a token model); the C# program turns them into ints.

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


# --------------------------------------------------------------------------------------------------------------
# Check-only models: small networks for the paths of the CUDA kernels the four benchmark models do not reach.
# Each comes with its C# declaration (benchmarks/StaticRnn.CudaBench/Models.cs); the module names emb, rnn and
# fc are the Weights = prefixes there. scales: PyTorch's default initialisation of each module multiplied by this.
# --------------------------------------------------------------------------------------------------------------

CheckSpec = namedtuple("CheckSpec", "name T input_size vocab scales declaration")

CHECK_MODELS = [
    # Tokens -> Embedding -> 2 stacked bidirectional GRU layers (concatenation between them, Sum on top), every step
    # (scratch memory) -> Dense + softmax per step.
    CheckSpec("emb_gru_bi2_sum_seq", 12, None, 40, {"emb": 1.0, "rnn": 2.5, "fc": 3.0},
              '[Embedding(40, 8, Weights = "emb")] '
              '[Gru(24, Weights = "rnn", Layers = 2, Bidirectional = true, ReturnSequences = true, MergeMode = MergeMode.Sum)] '
              '[Dense(5, Weights = "fc", Activation = Activation.Softmax)]'),
    # 2 stacked bidirectional LSTM layers, many-to-one Concat (h_n[-2], h_n[-1]) -> Dense + sigmoid.
    CheckSpec("lstm_bi2_sigmoid", 15, 6, None, {"rnn": 2.5, "fc": 4.0},
              '[Lstm(20, Weights = "rnn", Layers = 2, Bidirectional = true)] '
              '[Dense(3, Weights = "fc", Activation = Activation.Sigmoid)]'),
    # A ReLU SimpleRnn of 300 units (above 256 threads: a thread owns two units) -> Dense.
    CheckSpec("rnn_relu_300", 10, 4, None, {"rnn": 1.5, "fc": 6.0},
              '[SimpleRnn(300, Weights = "rnn", Activation = Activation.Relu)] [Dense(2, Weights = "fc")]'),
    # A bidirectional GRU of 33 units, every step, merged by Average, no head (the merge writes the outputs).
    CheckSpec("gru_bi_avg_seq", 9, 5, None, {"rnn": 3.0},
              '[Gru(33, Weights = "rnn", Bidirectional = true, ReturnSequences = true, MergeMode = MergeMode.Average)]'),
    # A reset-before GRU (ResetAfter = false), bidirectional many-to-one merged by Multiply -> Dense + tanh.
    CheckSpec("gru_rb_bi_mul", 11, 7, None, {"rnn": 2.5, "fc": 4.0},
              '[Gru(40, Weights = "rnn", Bidirectional = true, MergeMode = MergeMode.Multiply, ResetAfter = false)] '
              '[Dense(3, Weights = "fc", Activation = Activation.Tanh)]'),
]

MAX_ABS_CHECK_OUTPUT = 10.0   # outputs stay moderate, so the absolute 1e-5 tolerance means something


def gru_loop(rnn, x, reset_after):
    """A bidirectional one-layer nn.GRU's per-step outputs [N, T, 2H] by explicit torch ops in x's dtype, reading
    rnn's parameters. reset_after=True is nn.GRU itself; False applies the reset gate before the recurrent product,
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn) (StaticRnn's Gru(ResetAfter = false) on PyTorch-named weights)."""
    assert rnn.num_layers == 1 and rnn.bidirectional and rnn.batch_first
    N, T, _ = x.shape
    H = rnn.hidden_size
    outs = []
    for suffix, order in (("_l0", range(T)), ("_l0_reverse", range(T - 1, -1, -1))):
        w_ih, w_hh = getattr(rnn, "weight_ih" + suffix), getattr(rnn, "weight_hh" + suffix)
        b_ih, b_hh = getattr(rnn, "bias_ih" + suffix), getattr(rnn, "bias_hh" + suffix)
        h = torch.zeros(N, H, dtype=x.dtype)
        steps = [None] * T
        for t in order:
            gx = x[:, t] @ w_ih.T + b_ih
            r = torch.sigmoid(gx[:, :H] + h @ w_hh[:H].T + b_hh[:H])
            z = torch.sigmoid(gx[:, H:2 * H] + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
            if reset_after:
                n = torch.tanh(gx[:, 2 * H:] + r * (h @ w_hh[2 * H:].T + b_hh[2 * H:]))
            else:
                n = torch.tanh(gx[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
            h = (1 - z) * n + z * h
            steps[t] = h
        outs.append(torch.stack(steps, dim=1))
    return torch.cat(outs, dim=2)


class CheckNet(nn.Module):
    """The check-only models; forward returns [N, OutputSize] (per-step outputs flattened step-major)."""

    def __init__(self, spec):
        super().__init__()
        self.spec_name = spec.name
        if spec.name == "emb_gru_bi2_sum_seq":
            self.emb = nn.Embedding(spec.vocab, 8)
            self.rnn = nn.GRU(8, 24, num_layers=2, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(24, 5)
        elif spec.name == "lstm_bi2_sigmoid":
            self.rnn = nn.LSTM(6, 20, num_layers=2, bidirectional=True, batch_first=True)
            self.fc = nn.Linear(40, 3)
        elif spec.name == "rnn_relu_300":
            self.rnn = nn.RNN(4, 300, nonlinearity="relu", batch_first=True)
            self.fc = nn.Linear(300, 2)
        elif spec.name == "gru_bi_avg_seq":
            self.rnn = nn.GRU(5, 33, bidirectional=True, batch_first=True)
        elif spec.name == "gru_rb_bi_mul":
            self.rnn = nn.GRU(7, 40, bidirectional=True, batch_first=True)   # parameters only: run by gru_loop
            self.fc = nn.Linear(40, 3)
        else:
            raise ValueError(spec.name)

    def forward(self, x):
        n = x.shape[0]
        if self.spec_name == "emb_gru_bi2_sum_seq":
            out, _ = self.rnn(self.emb(x))                      # [N, T, 48]: the top layer's forward and backward
            merged = out[..., :24] + out[..., 24:]               # MergeMode.Sum, per step
            return torch.softmax(self.fc(merged), dim=-1).reshape(n, -1)
        if self.spec_name == "lstm_bi2_sigmoid":
            out, (h_n, _) = self.rnn(x)
            last = torch.cat([h_n[-2], h_n[-1]], dim=-1)         # top layer: forward after the last step, backward
            assert torch.equal(last, torch.cat([out[:, -1, :20], out[:, 0, 20:]], dim=-1))   # after the first
            return torch.sigmoid(self.fc(last))
        if self.spec_name == "rnn_relu_300":
            out, h_n = self.rnn(x)
            assert torch.equal(out[:, -1], h_n[-1])
            return self.fc(out[:, -1])
        if self.spec_name == "gru_bi_avg_seq":
            out, _ = self.rnn(x)
            return ((out[..., :33] + out[..., 33:]) / 2).reshape(n, -1)   # MergeMode.Average, per step
        if self.spec_name == "gru_rb_bi_mul":
            out = gru_loop(self.rnn, x, reset_after=False)
            return torch.tanh(self.fc(out[:, -1, :40] * out[:, 0, 40:]))   # MergeMode.Multiply, many-to-one
        raise ValueError(self.spec_name)


def _check_gru_loop():
    """gru_loop in its reset-after form reproduces nn.GRU (so its reset-before form differs only where it should)."""
    torch.manual_seed(2024)
    rnn = nn.GRU(3, 5, bidirectional=True, batch_first=True).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    with torch.no_grad():
        ref, _ = rnn(x)
        mine = gru_loop(rnn, x, reset_after=True)
        other = gru_loop(rnn, x, reset_after=False)
    assert float((ref - mine).abs().max()) < 1e-12, "gru_loop disagrees with nn.GRU"
    assert float((ref - other).abs().max()) > 1e-3, "the reset-before form should differ from nn.GRU"


def make_check(spec, out_dir, seed):
    torch.manual_seed(seed)
    net = CheckNet(spec).eval()
    with torch.no_grad():
        for module, factor in spec.scales.items():   # PyTorch's default initialisation, scaled up so that gates
            for p in getattr(net, module).parameters():   # saturate at times and the outputs are not all tiny
                p.mul_(factor)
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    st_path = os.path.join(out_dir, spec.name + ".safetensors")
    write_safetensors(st_path, state)
    back = read_safetensors(st_path)
    assert sorted(back) == sorted(state)
    for k in state:
        assert np.array_equal(back[k], state[k].numpy().astype(np.float64)), k

    gen = torch.Generator().manual_seed(seed + 1)
    if spec.vocab is not None:
        tokens = torch.randint(0, spec.vocab, (REFERENCE_SEQUENCES, spec.T), generator=gen)
        x64 = x32 = tokens
        stored = tokens.to(torch.float32).unsqueeze(-1)          # [8, T, 1]: exact small integers
    else:
        x32 = torch.rand((REFERENCE_SEQUENCES, spec.T, spec.input_size), generator=gen) * 2.0 - 1.0
        x64 = x32.double()
        stored = x32
    with torch.no_grad():
        y64 = net.double()(x64)
        y32 = net.float()(x32)
    err32 = float((y32.double() - y64).abs().max())
    assert err32 <= CHECK_TOLERANCE, f"{spec.name}: float32 module vs float64 {err32:.3g}"
    assert y64.dtype == torch.float64 and y64.shape[0] == REFERENCE_SEQUENCES and y64.dim() == 2
    assert bool(torch.isfinite(y64).all()), spec.name
    biggest = float(y64.abs().max())
    assert 1e-3 < biggest <= MAX_ABS_CHECK_OUTPUT, f"{spec.name}: outputs up to {biggest:.3g}"

    ref_path = os.path.join(out_dir, spec.name + ".reference.safetensors")
    write_safetensors(ref_path, {"input": stored.contiguous(), "expected": y64.contiguous()})
    ref = read_safetensors(ref_path)
    assert np.array_equal(ref["input"], stored.numpy().astype(np.float64))
    assert np.array_equal(ref["expected"], y64.numpy())

    params = sum(t.numel() for t in state.values())
    return err32, params, biggest, tuple(y64.shape), st_path, ref_path


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

    _check_gru_loop()
    print()
    print(f"check-only {'model':20} {'params':>7} {'outputs':>9} {'max |y|':>8} {'f32 err':>9}  weights       reference")
    for n, spec in enumerate(CHECK_MODELS):
        err, params, biggest, shape, st, ref = make_check(spec, args.out, seed=5000 + 17 * n)
        print(f"check-only {spec.name:20} {params:7d} {shape[1]:9d} {biggest:8.3f} {err:9.2e}  {digest(st)}  {digest(ref)}")


if __name__ == "__main__":
    main()
