#!/usr/bin/python3
"""Variable-length sequence fixtures (issue 17): tests/StaticRnn.Tests/Fixtures/Lengths/.

Issue 17 makes SequenceLength the maximum: PredictBatch(inputs, lengths, outputs) (and the token form) runs each
sequence's first lengths[i] steps with PyTorch's packed semantics, and [Embedding(v, e, MaskZero = true)] treats token
0 as padding wherever it stands, with Keras' mask_zero semantics. This script writes the references for both; neither
API exists yet, so the C# it writes is left out of the test build (StaticRnn.Tests.csproj) until it does.

Two groups of fixtures.

1. TORCH_FIXTURES (PyTorch packed semantics; weights <name>.safetensors, state_dict names rnn.*, fc.*, emb.*).
   Each is an nn.Module whose forward is written as users write it:
       packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
       out, h_n = self.run_rnn(packed)            # (h_n, c_n) for an LSTM
       many-to-one:  y = h_n[-1], or torch.cat((h_n[-2], h_n[-1]), 1) when bidirectional
       many-to-many: y, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
       y = act(self.fc(y))                    # if there is a head; applied at every step for many-to-many
   (token models: x = self.emb(tokens) first). So a sequence of length L uses only its first L steps: the forward
   direction's state after step L-1, the backward direction started at step L-1; stacked layers only see real steps;
   per-step outputs at t >= L are 0 from pad_packed_sequence, and a head maps those zeros to act(bias).
   The weights are PyTorch's default init from a fixed seed, scaled up (gates saturate at times). The inputs are
   float32; past each sequence's length they hold garbage (|v| in [100, 1000]), so a model that reads past the end is
   caught. Token models pad with token 0, which is an ordinary token here (no MaskZero): some sequences also use 0
   inside their real steps. Lengths: 6-8 sequences per fixture, covering 1 and T, unsorted.
   Expected values: a .double() copy of the float32 module on the float32 inputs. Checks: the float32 module agrees
   within 2e-6 (otherwise the weights are scaled by 0.85 and it is tried again); and every sequence run alone, cut
   to its length and not packed (x[i:i+1, :L]), through the float64 module's parts gives the same result (1e-12):
   h_n / out of the unpacked module, zeros past L, the head on top.

2. KERAS_FIXTURES (Keras 3 mask_zero semantics; weights <name>.npz in Keras layout, declared with
   Convention = WeightConvention.Keras and [Embedding(v, e, Weights = "embedding", MaskZero = true)]).
   Keras/TensorFlow is not available here, so the expected values come from keras_model() below: float64 torch ops
   in a step loop that transcribes Keras 3's generic masked RNN loop (keras/src/backend/tensorflow/rnn.py rnn(),
   unroll=False: the torch and numpy backends' loops are the same code; see Fixtures/Lengths/README.md for the
   source references), the Keras cells (LSTMCell implementation 2: z = x K + h R + b, gates i, f, c, o, sigmoid and
   tanh; GRUCell reset_after=True: x K + b[0], h R + b[1], z, r, h gates, h' = z h + (1 - z) hh) and Bidirectional:
     - mask = tokens != 0 (Embedding.compute_mask);
     - at a masked step every state keeps its value; the step's output is the previous step's output (zeros before
       the first unmasked step) or, with zero_output_for_mask, zeros;
     - go_backwards (Bidirectional's backward layer) runs over the reversed sequence and reversed mask; outputs are
       kept in processing order and last_output is the last of them; Bidirectional flips the backward outputs back
       when return_sequences;
     - zero_output_for_mask is False for a plain LSTM/GRU; Bidirectional forces it to return_sequences on both
       inner layers;
     - many-to-one: last_output (so the state at the last unmasked step); Dense applies to every step's output.
   The weights are drawn as PyTorch modules (default init, fixed seed, scaled; LSTM bias_hh = 0 so that Keras' single
   bias is exact) and converted with make_variant_fixtures.keras_tensors (the layout the generator's Keras binder
   reads), written with np.savez_compressed and read back; keras_model() runs on the arrays read back. Checks:
     a. sequences without any 0 token: keras_model() equals make_variant_fixtures.keras_forward (the NumPy Keras
        forward pass the existing Keras fixtures are checked with) and the PyTorch twin modules (1e-12);
     b. every fixture sequence against the semantics stated independently with the PyTorch twin modules on the
        compressed sequence (its nonzero tokens only): many-to-one outputs equal the compressed run's; per-step
        outputs at unmasked steps equal the compressed run's output at that position, and at masked steps the
        previous unmasked step's output (0 before the first one), or 0 for Bidirectional (1e-12);
     c. float32 within 2e-6 of float64 (otherwise the weights are scaled by 0.85 and it is tried again).
   Each fixture's 8 sequences: no padding, post-padded, pre-padded, masks in the middle, pre- and post-padded,
   zeros everywhere, one real token in the middle (all but one masked), one real token first.

Outputs (tests/StaticRnn.Tests/Fixtures/Lengths/): <name>.safetensors or <name>.npz; <name>.json in the schema of
Fixtures/Reference.cs (sequenceLength is the maximum; inputs or tokens padded to it; stepOutputSize 0, stepExpected
null) plus "maskZero" (bool), "lengths" (PyTorch fixtures: the lengths to pass) or "nonzeroTokens" (Keras fixtures:
for information only; the model finds the mask in the tokens) and "cases" (what each sequence is);
LengthFixtureModels.cs (declarations, LengthFixtureCatalog.All, LengthFixtures.Load); the fixture table in
README.md between its <!-- fixtures:begin --> and <!-- fixtures:end --> markers (the rest of it is written by hand).

Deterministic: fixed seeds, one torch thread; re-running rewrites byte-identical files.

Usage (from the repository root; needs torch 1.13 and numpy):
    /usr/bin/python3 tools/make_length_fixtures.py [--out tests/StaticRnn.Tests/Fixtures/Lengths]
"""

import argparse
import json
import os
import re

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from make_fixtures import Dense, Emb, Rec, REC_KINDS, _activate, _seed_for, class_name, write_json
from make_variant_fixtures import KerasOut, keras_forward, keras_prefixes, keras_tensors, read_keras, write_keras
from safetensors_io import read_safetensors, write_safetensors

F32_TOLERANCE = 2e-6
CHECK_TOLERANCE = 1e-12
MAX_ABS_OUTPUT = 5.0
GARBAGE = (100.0, 1000.0)      # |input| past a sequence's length
NPZ = KerasOut("npz")


class LenFixture:
    def __init__(self, name, T, layers, I=None, n=7, keras=False, note=""):
        self.name = name
        self.T = T
        self.I = I
        self.layers = layers
        self.n = n
        self.keras = keras
        self.note = note
        self.tokens = layers[0].kind == "emb"
        assert (I is None) == self.tokens
        assert not keras or self.tokens, "MaskZero fixtures take tokens"
        self.rec = next(L for L in layers if L.kind in REC_KINDS)
        assert sum(L.kind in REC_KINDS for L in layers) == 1
        self.head = next((L for L in layers if L.kind == "dense"), None)
        self.emb = layers[0] if self.tokens else None
        self.weight_file = name + (".npz" if keras else ".safetensors")
        units = self.head.units if self.head else self.rec.hidden * (2 if self.rec.bi else 1)
        self.out_size = units * (T if self.rec.seq else 1)


def KEmb(vocab, dim):
    return Emb(vocab, dim, weights="embedding")


TORCH_FIXTURES = [
    LenFixture("lstm_m2o", 9, [Rec("lstm", 8), Dense(3, act="Sigmoid")], I=3),
    LenFixture("lstm_bi_m2o", 8, [Rec("lstm", 6, bi=True), Dense(2, act="Softmax")], I=4),
    LenFixture("lstm_bi_2l_m2o", 7, [Rec("lstm", 5, layers=2, bi=True), Dense(2)], I=3),
    LenFixture("gru_2l_m2o", 10, [Rec("gru", 7, layers=2), Dense(2, act="Tanh")], I=3, n=8),
    LenFixture("rnn_m2o", 9, [Rec("rnn", 7), Dense(3)], I=3),
    LenFixture("lstm_m2m", 8, [Rec("lstm", 6, seq=True), Dense(2, act="Tanh")], I=2, n=6),
    LenFixture("gru_bi_2l_m2m", 7, [Rec("gru", 5, layers=2, bi=True, seq=True), Dense(3)], I=3),
    LenFixture("gru_m2m_nohead", 7, [Rec("gru", 4, seq=True)], I=2, n=6, note="no head: zeros past each length"),
    LenFixture("lstm_bi_m2m_nohead", 6, [Rec("lstm", 5, bi=True, seq=True)], I=3, n=6,
               note="no head: zeros past each length"),
    LenFixture("emb_lstm_m2o", 10, [Emb(12, 5), Rec("lstm", 8), Dense(3, act="Softmax")], n=8,
               note="tokens padded with 0; token 0 also inside some sequences"),
    LenFixture("emb_gru_bi_m2m", 8, [Emb(9, 4), Rec("gru", 5, bi=True, seq=True), Dense(3, act="Softmax")],
               note="tokens padded with 0; token 0 also inside some sequences"),
]

KERAS_FIXTURES = [
    LenFixture("keras_mask_lstm", 10, [KEmb(15, 4), Rec("lstm", 8, weights="lstm"),
                                       Dense(3, weights="dense", act="Softmax")], n=8, keras=True),
    LenFixture("keras_mask_gru_seq", 10, [KEmb(13, 5), Rec("gru", 6, weights="gru", seq=True),
                                          Dense(2, weights="dense")], n=8, keras=True,
               note="a masked step outputs the previous step's output (0 before the first real token)"),
    LenFixture("keras_mask_lstm_bi", 10, [KEmb(11, 4), Rec("lstm", 5, weights="bidirectional", bi=True),
                                          Dense(2, weights="dense", act="Sigmoid")], n=8, keras=True),
    LenFixture("keras_mask_gru_bi_seq", 10, [KEmb(10, 3), Rec("gru", 4, weights="bidirectional", bi=True, seq=True),
                                             Dense(2, weights="dense", act="Tanh")], n=8, keras=True,
               note="Bidirectional forces zero_output_for_mask: a masked step outputs 0 in both directions"),
]

# Keras fixtures' sequences (T = 10): 1 = a real (nonzero) token, 0 = padding.
MASK_CASES = [
    ("no padding", "1111111111"),
    ("post-padded", "1111100000"),
    ("pre-padded", "0000111111"),
    ("masks in the middle", "1011001111"),
    ("pre- and post-padded, a mask in the middle", "0011011000"),
    ("zeros everywhere", "0101100110"),
    ("all but one masked (one real token in the middle)", "0000100000"),
    ("one real token first, the rest post-padding", "1000000000"),
]


# --------------------------------------------------------------------------------------
# PyTorch modules
# --------------------------------------------------------------------------------------

def _make_rnn(L, feat, **kw):
    kw = dict(num_layers=L.layers, bidirectional=L.bi, batch_first=True, **kw)
    if L.kind == "lstm":
        return nn.LSTM(feat, L.hidden, **kw)
    if L.kind == "gru":
        return nn.GRU(feat, L.hidden, **kw)
    return nn.RNN(feat, L.hidden, nonlinearity="tanh", **kw)


class PackedNet(nn.Module):
    """The module as users write it (see the docstring): registered as emb / rnn / fc (or the Keras layer names)."""

    def __init__(self, fx):
        super().__init__()
        self.fx = fx
        feat = fx.I
        if fx.emb:
            setattr(self, fx.emb.path, nn.Embedding(fx.emb.vocab, fx.emb.dim))
            feat = fx.emb.dim
        setattr(self, fx.rec.path, _make_rnn(fx.rec, feat))
        feat = fx.rec.hidden * (2 if fx.rec.bi else 1)
        if fx.head:
            setattr(self, fx.head.path, nn.Linear(feat, fx.head.units))

    def embed(self, x):
        return getattr(self, self.fx.emb.path)(x) if self.fx.emb else x

    def apply_head(self, y):
        return _activate(getattr(self, self.fx.head.path)(y), self.fx.head.act) if self.fx.head else y

    def run_rnn(self, x):
        return getattr(self, self.fx.rec.path)(x)

    def forward(self, x, lengths):
        fx = self.fx
        packed = pack_padded_sequence(self.embed(x), lengths, batch_first=True, enforce_sorted=False)
        out, h_n = self.run_rnn(packed)
        if fx.rec.seq:
            y, _ = pad_packed_sequence(out, batch_first=True, total_length=fx.T)
        else:
            if fx.rec.kind == "lstm":
                h_n = h_n[0]
            y = torch.cat((h_n[-2], h_n[-1]), 1) if fx.rec.bi else h_n[-1]
        return self.apply_head(y).reshape(x.shape[0], -1)

    def unpacked_one(self, x, length):
        """One sequence (1, T[, I]) cut to its length and run without packing; zeros past the length."""
        out, h_n = self.run_rnn(self.embed(x[:, :length]))
        H = self.fx.rec.hidden
        if self.fx.rec.seq:
            y = torch.zeros(1, self.fx.T, out.shape[-1], dtype=out.dtype)
            y[:, :length] = out
        elif self.fx.rec.bi:
            y = torch.cat((out[:, -1, :H], out[:, 0, H:]), 1)
        else:
            y = out[:, -1]
        return self.apply_head(y).reshape(1, -1)


def _scale(net, fx, factor):
    with torch.no_grad():
        for L in fx.layers:
            for p in getattr(net, L.path).parameters():
                p.mul_(L.scale * factor)


def _gen(fx, salt):
    return torch.Generator().manual_seed(_seed_for(fx.name, salt))


def _lengths(fx):
    """fx.n lengths: 1 and T, the rest distinct ones between them (random), in an order that is neither ascending nor
    descending."""
    g = _gen(fx, 11)
    middle = [2 + i for i in torch.randperm(fx.T - 2, generator=g).tolist()]
    lens = [fx.T, 1] + (middle * fx.n)[:fx.n - 2]
    lens = [lens[i] for i in torch.randperm(fx.n, generator=g).tolist()]
    while lens == sorted(lens) or lens == sorted(lens, reverse=True):
        lens = lens[1:] + lens[:1]
    return lens


def _torch_inputs(fx, lengths):
    g = _gen(fx, 7)
    if fx.tokens:
        x = torch.randint(1, fx.emb.vocab, (fx.n, fx.T), generator=g)
        for i, L in enumerate(lengths):
            x[i, L:] = 0
            if L >= 3 and i % 2 == 0:
                x[i, L // 2] = 0          # an ordinary token here: no MaskZero
        x[0, 0] = fx.emb.vocab - 1
        return x
    x = torch.randn(fx.n, fx.T, fx.I, generator=g) * 1.5
    garbage = torch.empty(fx.n, fx.T, fx.I).uniform_(*GARBAGE, generator=g)
    garbage *= torch.where(torch.rand(fx.n, fx.T, fx.I, generator=g) < 0.5, -1.0, 1.0)
    for i, L in enumerate(lengths):
        x[i, L:] = garbage[i, L:]
    return x.float()


def _weights_and_outputs(fx, build, run, check):
    """Draws the weights (scaled down by 0.85 until float32 is within F32_TOLERANCE of float64 and the outputs are
    moderate), then runs check on the float64 result. build(factor) -> (net, stored); run(net, stored, dtype) -> y.
    The last build is the accepted one."""
    factor = 1.0
    for attempt in range(10):
        torch.manual_seed(_seed_for(fx.name))
        net, stored = build(factor)
        y64 = run(net, stored, torch.float64)
        err = (run(net, stored, torch.float32).double() - y64).abs().max().item()
        mag = y64.abs().max().item()
        if err <= F32_TOLERANCE and mag <= MAX_ABS_OUTPUT:
            break
        factor *= 0.85
    else:
        raise RuntimeError(f"{fx.name}: float32 error {err}, |y| {mag}")
    assert y64.shape == (fx.n, fx.out_size) and torch.isfinite(y64).all()
    check_err = check(net, stored, y64)
    assert check_err <= CHECK_TOLERANCE, f"{fx.name}: independent check differs by {check_err}"
    return dict(y=y64, err=err, mag=mag, factor=factor, check=check_err, attempts=attempt + 1, stored=stored)


def build_torch(fx, out_dir):
    lengths = _lengths(fx)
    assert 1 in lengths and fx.T in lengths
    x = _torch_inputs(fx, lengths)
    lens = torch.tensor(lengths, dtype=torch.int64)

    def build(factor):
        net = PackedNet(fx)
        _scale(net, fx, factor)
        net.eval()
        return net, {k: v.detach().clone() for k, v in net.state_dict().items()}

    def run(net, stored, dtype):
        m = PackedNet(fx).to(dtype)
        m.load_state_dict({k: v.to(dtype) for k, v in stored.items()})
        with torch.no_grad():
            return m(x if fx.tokens else x.to(dtype), lens)

    def check(net, stored, y64):
        m = PackedNet(fx).double()
        m.load_state_dict({k: v.double() for k, v in stored.items()})
        xin = x if fx.tokens else x.double()
        with torch.no_grad():
            alone = torch.cat([m.unpacked_one(xin[i:i + 1], L) for i, L in enumerate(lengths)])
        return (alone - y64).abs().max().item()

    r = _weights_and_outputs(fx, build, run, check)
    path = os.path.join(out_dir, fx.weight_file)
    stored = r["stored"]
    write_safetensors(path, stored)
    back = read_safetensors(path)
    assert set(back) == set(stored)
    for k, v in stored.items():
        assert np.array_equal(back[k], v.double().numpy()), (fx.name, k)
    r.update(fx=fx, x=x, lengths=lengths, cases=None, files=[path])
    return r


# --------------------------------------------------------------------------------------
# Keras 3 masking semantics, transcribed (float64 or float32 torch ops)
# --------------------------------------------------------------------------------------

def keras_lstm_cell(K, R, b):
    H = R.shape[0]

    def step(x, states):
        h, c = states
        z = x @ K + h @ R + b                                  # LSTMCell.call, implementation 2
        i, f, cc, o = (z[:, g * H:(g + 1) * H] for g in range(4))
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cc)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, [h, c]
    return step, 2


def keras_gru_cell(K, R, b):
    H = R.shape[0]

    def step(x, states):
        h = states[0]
        mx = x @ K + b[0]                                      # GRUCell.call, reset_after=True
        mi = h @ R + b[1]
        z = torch.sigmoid(mx[:, :H] + mi[:, :H])
        r = torch.sigmoid(mx[:, H:2 * H] + mi[:, H:2 * H])
        hh = torch.tanh(mx[:, 2 * H:] + r * mi[:, 2 * H:])
        h = z * h + (1 - z) * hh
        return h, [h]
    return step, 1


def keras_rnn(step, n_states, x, mask, H, go_backwards, zero_output_for_mask):
    """backend.rnn(step, x, zero states, go_backwards, mask, unroll=False, zero_output_for_mask) as in
    keras/src/backend/tensorflow/rnn.py: returns (last_output, outputs in processing order)."""
    N, T = mask.shape
    states = [torch.zeros(N, H, dtype=x.dtype) for _ in range(n_states)]
    zero = torch.zeros(N, H, dtype=x.dtype)
    prev_output = zero
    outputs = []
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        output, new_states = step(x[:, t], states)
        m = mask[:, t:t + 1]
        output = torch.where(m, output, zero if zero_output_for_mask else prev_output)
        states = [torch.where(m, s_new, s) for s_new, s in zip(new_states, states)]
        outputs.append(output)
        prev_output = output
    return outputs[-1], torch.stack(outputs, dim=1)


def keras_model(fx, w, tokens, dtype):
    """Embedding(mask_zero=True) -> [Bidirectional(]LSTM/GRU[)] -> Dense, from the Keras arrays w (name -> array)."""
    t = lambda a: torch.from_numpy(np.asarray(a)).to(dtype)
    mask = tokens != 0                                                      # Embedding.compute_mask
    x = t(w[f"{fx.emb.path}/embeddings"])[tokens]
    L = fx.rec
    cell = keras_lstm_cell if L.kind == "lstm" else keras_gru_cell
    runs = []
    for d, (_, prefix) in enumerate(keras_prefixes(L)):
        step, n_states = cell(t(w[prefix + "/kernel"]), t(w[prefix + "/recurrent_kernel"]), t(w[prefix + "/bias"]))
        # Bidirectional: go_backwards on the backward copy, zero_output_for_mask = return_sequences on both
        zero_out = L.seq if L.bi else False
        last, outs = keras_rnn(step, n_states, x, mask, L.hidden, go_backwards=d == 1, zero_output_for_mask=zero_out)
        y = outs if L.seq else last
        if d == 1 and L.seq:
            y = torch.flip(y, dims=[1])                                     # Bidirectional.call: ops.flip(y_rev)
        runs.append(y)
    y = torch.cat(runs, dim=-1)
    if fx.head:
        y = y @ t(w[f"{fx.head.path}/kernel"]) + t(w[f"{fx.head.path}/bias"])
        y = _activate(y, fx.head.act)
    return y.reshape(tokens.shape[0], -1)


def keras_by_compression(fx, net, tokens):
    """The same semantics stated another way, with the PyTorch twin net: each sequence's nonzero tokens run alone."""
    rows = []
    H = fx.rec.hidden
    for seq in tokens:
        keep = (seq != 0).nonzero().flatten()
        with torch.no_grad():
            out, _ = net.run_rnn(net.embed(seq[keep].unsqueeze(0)))
        out = out[0]
        if not fx.rec.seq:
            y = torch.cat((out[-1, :H], out[0, H:])) if fx.rec.bi else out[-1]
        else:
            y = torch.zeros(fx.T, out.shape[-1], dtype=out.dtype)
            y[keep] = out
            if not fx.rec.bi:          # a masked step repeats the previous output (0 before the first real step)
                for s in range(1, fx.T):
                    if seq[s] == 0:
                        y[s] = y[s - 1]
        with torch.no_grad():
            rows.append(net.apply_head(y).reshape(-1))
    return torch.stack(rows)


def _keras_tokens(fx):
    g = _gen(fx, 7)
    assert fx.n == len(MASK_CASES) and all(len(p) == fx.T for _, p in MASK_CASES)
    real = torch.randint(1, fx.emb.vocab, (fx.n, fx.T), generator=g)
    pattern = torch.tensor([[int(c) for c in p] for _, p in MASK_CASES], dtype=torch.bool)
    tokens = torch.where(pattern, real, torch.zeros_like(real))
    tokens[0, 0] = fx.emb.vocab - 1
    return tokens


def build_keras(fx, out_dir):
    tokens = _keras_tokens(fx)
    path = os.path.join(out_dir, fx.weight_file)
    full = torch.randint(1, fx.emb.vocab, (4, fx.T), generator=_gen(fx, 13))    # no mask at all

    def build(factor):
        net = PackedNet(fx)
        _scale(net, fx, factor)
        with torch.no_grad():
            for n, p in getattr(net, fx.rec.path).named_parameters():
                if fx.rec.kind == "lstm" and n.startswith("bias_hh"):
                    p.zero_()       # Keras' one LSTM bias = bias_ih, exactly
        net.eval()
        sd = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
        write_keras(path, keras_tensors(fx.layers, sd), NPZ)
        return net.double(), read_keras(path, NPZ)

    def run(net, w, dtype):
        return keras_model(fx, w, tokens, dtype)

    def check(net, w, y64):
        # a. no mask: the NumPy Keras forward pass and the PyTorch twin
        y_full = keras_model(fx, w, full, torch.float64)
        err = np.abs(keras_forward(fx.layers, w, full.numpy()) - y_full.numpy()).max()
        err = max(err, (keras_by_compression(fx, net, full) - y_full).abs().max().item())
        # b. the fixture's sequences against the compressed runs
        return max(err, (keras_by_compression(fx, net, tokens) - y64).abs().max().item())

    r = _weights_and_outputs(fx, build, run, check)     # the file holds the accepted (last drawn) weights
    r.update(fx=fx, x=tokens, lengths=None, cases=[c for c, _ in MASK_CASES], files=[path])
    return r


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

def write_length_json(path, r):
    """The Reference schema (make_fixtures.write_json) plus maskZero, lengths / nonzeroTokens and cases."""
    fx = r["fx"]
    write_json(path, dict(fx=fx, x=r["x"], y=r["y"], s=None, out_size=fx.out_size, step_size=0))
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith('  "stepExpected": null\n}\n')
    extra = [f'  "maskZero": {"true" if fx.keras else "false"}']
    if fx.keras:
        extra.append(f'  "nonzeroTokens": {json.dumps([int((s != 0).sum()) for s in r["x"]])}')
        extra.append('  "cases": [\n    ' + ",\n    ".join(json.dumps(c) for c in r["cases"]) + "\n  ]")
    else:
        extra.append(f'  "lengths": {json.dumps(r["lengths"])}')
    text = text[:-len("\n}\n")] + ",\n" + ",\n".join(extra) + "\n}\n"
    json.loads(text)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def cs_class(fx):
    return "Len" + class_name(fx.name)


def _attributes(fx):
    lines = []
    args = [f'"Fixtures/Lengths/{fx.weight_file}"', f"SequenceLength = {fx.T}"]
    if not fx.tokens:
        args.append(f"InputSize = {fx.I}")
    if fx.keras:
        args.append("Convention = WeightConvention.Keras")
    lines.append(f"[RnnModel({', '.join(args)})]")
    for L in fx.layers:
        if L.kind == "emb":
            mask = ", MaskZero = true" if fx.keras else ""
            lines.append(f'[Embedding({L.vocab}, {L.dim}, Weights = "{L.path}"{mask})]')
        elif L.kind == "dense":
            act = "" if L.act == "None" else f", Activation = Activation.{L.act}"
            lines.append(f'[Dense({L.units}, Weights = "{L.path}"{act})]')
        else:
            args = [str(L.hidden), f'Weights = "{L.path}"']
            if L.layers != 1:
                args.append(f"Layers = {L.layers}")
            if L.bi:
                args.append("Bidirectional = true")
            if L.seq:
                args.append("ReturnSequences = true")
            lines.append(f"[{ {'lstm': 'Lstm', 'gru': 'Gru', 'rnn': 'SimpleRnn'}[L.kind]}({', '.join(args)})]")
    return lines


CS_SUPPORT = """\
public delegate void FloatLengthsPredict(ReadOnlySpan<float> inputs, ReadOnlySpan<int> lengths, Span<float> outputs);
public delegate void TokenLengthsPredict(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, Span<float> outputs);

/// <summary>One variable-length fixture model (issue 17). The float or the token group is set. PyTorch fixtures
/// (MaskZero false) are checked through PredictBatchLengths / PredictBatchTokensLengths with the JSON's lengths; the
/// MaskZero fixtures (Keras semantics) through PredictTokens and PredictBatchTokens, which find the mask in the
/// tokens.</summary>
public sealed record LengthFixtureModel(
    string Name,
    bool MaskZero,
    int SequenceLength,
    int InputSize,
    int OutputSize,
    FloatPredict? Predict,
    FloatPredict? PredictBatch,
    FloatLengthsPredict? PredictBatchLengths,
    TokenPredict? PredictTokens,
    TokenPredict? PredictBatchTokens,
    TokenLengthsPredict? PredictBatchTokensLengths)
{
    public bool TakesTokens => PredictTokens is not null;
    public override string ToString() => Name;
}

/// <summary>A Fixtures/Lengths/&lt;name&gt;.json: the Reference schema (inputs or tokens padded to SequenceLength, the
/// maximum) and the keys Reference does not read.</summary>
public sealed class LengthReference
{
    /// <summary>PyTorch fixtures: each sequence's length, to pass to PredictBatch; null for MaskZero fixtures.</summary>
    public int[]? Lengths { get; set; }
    public bool MaskZero { get; set; }
    /// <summary>MaskZero fixtures: how many tokens of each sequence are not 0 (for information only).</summary>
    public int[]? NonzeroTokens { get; set; }
    /// <summary>MaskZero fixtures: what each sequence is (pre-padded, post-padded, ...).</summary>
    public string[]? Cases { get; set; }
    [System.Text.Json.Serialization.JsonIgnore]
    public Reference Data { get; private set; } = new();

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Lengths");

    public static LengthReference Load(string name)
    {
        var json = File.ReadAllText(Path.Combine(Directory, name + ".json"));
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        var result = JsonSerializer.Deserialize<LengthReference>(json, options) ?? throw new InvalidDataException(name);
        result.Data = JsonSerializer.Deserialize<Reference>(json, options) ?? throw new InvalidDataException(name);
        return result;
    }
}
"""


def write_cs(path, results):
    out = ["// <auto-generated> by tools/make_length_fixtures.py; do not edit. </auto-generated>",
           "#nullable enable",
           "using System;", "using System.IO;", "using System.Text.Json;", "using StaticRnn;", "",
           "namespace StaticRnn.Tests.Fixtures;", ""]
    for r in results:
        fx = r["fx"]
        out.append(f"// {_describe(fx)}" + (f"; {fx.note}" if fx.note else ""))
        out.extend(_attributes(fx))
        out.append(f"public static partial class {cs_class(fx)} {{ }}")
        out.append("")
    out.extend(CS_SUPPORT.splitlines())
    out += ["", "public static class LengthFixtureCatalog", "{", "    public static readonly LengthFixtureModel[] All =",
            "    ["]
    for r in results:
        fx = r["fx"]
        c = cs_class(fx)
        mask = "true" if fx.keras else "false"
        out.append(f'        new LengthFixtureModel("{fx.name}", {mask}, {c}.SequenceLength, {c}.InputSize, {c}.OutputSize,')
        lengths = "null" if fx.keras else f"{c}.PredictBatch"
        if fx.tokens:
            out.append(f"            null, null, null, {c}.Predict, {c}.PredictBatch, {lengths}),")
        else:
            out.append(f"            {c}.Predict, {c}.PredictBatch, {lengths}, null, null, null),")
    out += ["    ];", "}"]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


def _describe(fx):
    L = fx.rec
    if fx.keras:
        parts = [f"Embedding({fx.emb.vocab}, {fx.emb.dim}, mask_zero=True)"]
        cell = {"lstm": "LSTM", "gru": "GRU"}[L.kind] + f"({L.hidden}{', return_sequences=True' if L.seq else ''})"
        parts.append(f"Bidirectional({cell})" if L.bi else cell)
    else:
        parts = [f"nn.Embedding({fx.emb.vocab}, {fx.emb.dim})"] if fx.emb else []
        opts = [f"hidden {L.hidden}"] + ([f"{L.layers} layers"] if L.layers > 1 else []) + (["bidirectional"] if L.bi else [])
        parts.append("packed nn." + {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[L.kind] + f"({', '.join(opts)})")
        parts.append("pad_packed_sequence(out, total_length=T)" if L.seq
                     else "cat(h_n[-2], h_n[-1])" if L.bi else "h_n[-1]")
    if fx.head:
        act = "" if fx.head.act == "None" else f" -> {fx.head.act.lower()}"
        parts.append((f"Dense({fx.head.units})" if fx.keras else f"Linear({fx.head.units})") + act)
    return " -> ".join(parts)


def _readme_table(results):
    rows = ["| name | model | T | sequences | lengths / cases | max abs y | f32 err | weight scale |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        fx = r["fx"]
        what = (", ".join(map(str, r["lengths"])) if r["lengths"] is not None
                else "tokens != 0: " + ", ".join(str(int((s != 0).sum())) for s in r["x"]))
        model = _describe(fx) + (f"; {fx.note}" if fx.note else "")
        rows.append(f"| {fx.name} | {model} | {fx.T} | {fx.n} | {what} | {r['mag']:.3f} | {r['err']:.1e} | "
                    f"{r['factor']:.3f} |")
    return "\n".join(rows)


def update_readme(path, results):
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read()
    begin, end = "<!-- fixtures:begin -->", "<!-- fixtures:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    assert pattern.search(text), "README.md lacks the fixture table markers"
    text = pattern.sub(lambda _: begin + "\n" + _readme_table(results) + "\n" + end, text)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root, "tests", "StaticRnn.Tests", "Fixtures", "Lengths"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    fixtures = TORCH_FIXTURES + KERAS_FIXTURES
    names = [fx.name for fx in fixtures]
    assert len(set(names)) == len(names) and len({cs_class(fx) for fx in fixtures}) == len(fixtures)
    os.makedirs(args.out, exist_ok=True)
    results = []
    print(f"{'name':<24} {'T':>3} {'N':>2} {'out':>4} {'max|y|':>7} {'f32 err':>9} {'check':>9} {'scale':>6}")
    for fx in fixtures:
        r = build_keras(fx, args.out) if fx.keras else build_torch(fx, args.out)
        write_length_json(os.path.join(args.out, fx.name + ".json"), r)
        results.append(r)
        print(f"{fx.name:<24} {fx.T:>3} {fx.n:>2} {fx.out_size:>4} {r['mag']:>7.3f} {r['err']:>9.2e} "
              f"{r['check']:>9.2e} {r['factor']:>6.3f}")
    write_cs(os.path.join(args.out, "LengthFixtureModels.cs"), results)
    update_readme(os.path.join(args.out, "README.md"), results)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"\n{len(results)} fixtures ({len(TORCH_FIXTURES)} PyTorch packed, {len(KERAS_FIXTURES)} Keras mask_zero), "
          f"{size / 1024:.1f} KiB in {os.path.relpath(args.out, root)}")


if __name__ == "__main__":
    main()
