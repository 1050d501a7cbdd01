#!/usr/bin/python3
"""Reference fixtures for the StaticRnn end-to-end tests.

For every fixture model listed in FIXTURES below this script

  * builds the network out of real torch modules (nn.LSTM / nn.GRU / nn.RNN / nn.Linear /
    nn.Embedding) registered under the module paths the C# declaration names, so the tensor
    names are exactly the ``state_dict()`` names a user would save (``rnn.weight_ih_l0``,
    ``encoder.lstm.weight_hh_l1_reverse``, ``head.0.weight``, ...);
  * draws random weights (fixed seed per fixture) scaled up so that gates saturate at times;
  * writes the weights as a .safetensors file (written by hand: the format is an 8-byte
    little-endian header length N, N bytes of JSON padded with spaces to a multiple of 8,
    then the raw little-endian tensor data packed back to back);
  * runs N = 3 float32 input sequences through the network in float64 (the float32 weights,
    or the F16/BF16-rounded weights, or the genuine F64 weights, converted to float64) and
    writes inputs + expected outputs (+ the per-step outputs of Step) to <name>.json;
  * runs the same network in float32 and asserts max |f32 - f64| <= 2e-6, so every fixture is
    computable in float32 well inside the tests' 1e-5 tolerance (if it is not, the model's
    weights are scaled down and it is tried again, deterministically);
  * emits Fixtures/FixtureModels.cs: one attributed partial class per fixture plus
    FixtureCatalog.All (see tests/StaticRnn.Tests/Fixtures/FixtureModel.cs).

Semantics are PyTorch's: LSTM gates i, f, g, o; GRU r, z, n with reset-after; nn.RNN tanh or
relu. PyTorch has no sigmoid RNN, so SimpleRnn(Activation = Sigmoid) is computed with explicit
float64 torch ops, h = sigmoid(W_ih x + b_ih + W_hh h + b_hh), over the parameters of an
nn.RNN (whose state_dict names are the ones the file uses).

Bidirectional merge modes combine the forward and backward outputs of the LAST layer of that
attribute's stack (inner layers of a multi-layer bidirectional stack hand the next layer the
concatenation, as nn.LSTM(num_layers=k, bidirectional=True) does). Many-to-one: the forward
state after the last step and the backward state after processing the first step
(h_n[-2], h_n[-1]); per-step: output[t, :H] with output[t, H:].

Two more groups of fixtures come from make_variant_fixtures.py (see its docstring):

  * KERAS_FIXTURES: built and referenced exactly like the ones above (PyTorch float64), under Keras
    layer names, then stored as Keras weights (.npz or .safetensors with Keras names) and declared
    with Convention = WeightConvention.Keras; a float64 NumPy forward pass from the stored Keras
    arrays must reproduce PyTorch's outputs within 1e-9;
  * make_variant_fixtures.ONNX_FIXTURES: Gru(ResetAfter = false), Lstm(Peephole = true),
    Lstm(CoupledInputForget = true) and both, which PyTorch lacks: a float64 NumPy reference, the
    weight file (PyTorch or Keras convention) and <name>.onnx, which ONNX Runtime runs in the C#
    tests (OnnxOracleTests; FixtureCatalog.OnnxOracle lists them).

Deterministic: fixed seeds, one torch thread; re-running rewrites byte-identical files.

Usage (from the repository root; needs torch, numpy and onnx; no safetensors package):
    /usr/bin/python3 tools/make_fixtures.py [--out tests/StaticRnn.Tests/Fixtures]
"""

import argparse
import copy
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from safetensors_io import read_safetensors, write_safetensors
import make_variant_fixtures as variants
from make_variant_fixtures import KerasOut

N_SEQUENCES = 3
F32_TOLERANCE = 2e-6     # max |float32 run - float64 reference| accepted for a fixture
MAX_ABS_OUTPUT = 5.0     # keep outputs moderate
REC_KINDS = ("lstm", "gru", "rnn")


# --------------------------------------------------------------------------------------
# Layer descriptions
# --------------------------------------------------------------------------------------

class Layer:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def Rec(cell, hidden, weights="rnn", layers=1, bi=False, seq=False, merge=None,
        act="Tanh", bias=True, scale=2.5, name_weights=True):
    """A recurrent attribute. cell: lstm | gru | rnn (SimpleRnn). merge None = attribute default (Concat)."""
    assert cell in REC_KINDS
    return Layer(cell, hidden=hidden, path=weights, layers=layers, bi=bi, seq=seq,
                 merge=merge, act=act, bias=bias, scale=scale, name_weights=name_weights)


def Dense(units, weights="fc", act="None", bias=True, scale=2.0, name_weights=True):
    return Layer("dense", units=units, path=weights, act=act, bias=bias, scale=scale,
                 name_weights=name_weights)


def Emb(vocab, dim, weights="emb", scale=1.0):
    return Layer("emb", vocab=vocab, dim=dim, path=weights, scale=scale, name_weights=True)


def Drop(rate):
    return Layer("dropout", rate=rate, path=None)


class Fixture:
    def __init__(self, name, T, layers, I=None, dtype="F32", note="", bare=False, in_scale=1.5, keras=None):
        self.name = name
        self.T = T
        self.I = I            # None for token models
        self.layers = layers
        self.dtype = dtype
        self.note = note
        self.bare = bare      # the file is the bare state_dict of the single recurrent module (empty prefix)
        self.in_scale = in_scale
        self.tokens = layers[0].kind == "emb"
        assert (I is None) == self.tokens
        self.bidirectional = any(l.kind in REC_KINDS and l.bi for l in layers)
        # keras: a KerasOut -> the weights are written in Keras layout (make_variant_fixtures.py) instead
        # of as the state_dict; the expected outputs are still PyTorch's.
        self.keras = keras
        self.convention = "PyTorch" if keras is None else "Keras"
        self.weight_file = name + (".safetensors" if keras is None else keras.ext)
        self.onnx = False
        if keras is not None:
            assert all(l.layers == 1 for l in layers if l.kind in REC_KINDS), "Keras stacks are separate attributes"


# --------------------------------------------------------------------------------------
# The fixture list. Naming: <cell>_<uni|bi>_<k>l[_seq]: seq = per-step output
# (ReturnSequences = true), otherwise many-to-one.
# --------------------------------------------------------------------------------------

FIXTURES = [
    # ---- the full product: cell x direction x depth x output mode --------------------
    Fixture("rnn_uni_1l", 7, [Rec("rnn", 13), Dense(4, act="Sigmoid")], I=3),
    Fixture("rnn_uni_1l_seq", 6, [Rec("rnn", 5, seq=True), Dense(3, act="Tanh")], I=2),
    Fixture("rnn_uni_2l", 9, [Rec("rnn", 8, layers=2), Dense(2)], I=5),
    Fixture("rnn_uni_3l_seq", 5, [Rec("rnn", 6, layers=3, seq=True), Dense(1)], I=1),
    Fixture("rnn_bi_1l", 8, [Rec("rnn", 7, bi=True), Dense(3, act="Softmax")], I=3),
    Fixture("rnn_bi_1l_seq", 6, [Rec("rnn", 5, bi=True, seq=True), Dense(2, act="Relu")], I=4),
    Fixture("rnn_bi_2l", 7, [Rec("rnn", 6, layers=2, bi=True), Dense(1, act="Tanh")], I=2),
    Fixture("rnn_bi_2l_seq", 5, [Rec("rnn", 4, layers=2, bi=True, seq=True), Dense(3)], I=3),
    Fixture("lstm_uni_1l", 7, [Rec("lstm", 13), Dense(4, act="Sigmoid")], I=3),
    Fixture("lstm_uni_1l_seq", 10, [Rec("lstm", 9, seq=True), Dense(2)], I=2),
    Fixture("lstm_uni_2l", 8, [Rec("lstm", 10, layers=2), Dense(3, act="Softmax")], I=4),
    Fixture("lstm_uni_3l_seq", 6, [Rec("lstm", 6, layers=3, seq=True), Dense(2, act="Tanh")], I=3),
    Fixture("lstm_bi_1l", 9, [Rec("lstm", 8, bi=True, merge="Concat"), Dense(2)], I=5,
            note="MergeMode = Concat written explicitly"),
    Fixture("lstm_bi_1l_seq", 7, [Rec("lstm", 6, bi=True, seq=True), Dense(1, act="Sigmoid")], I=1),
    Fixture("lstm_bi_2l", 6, [Rec("lstm", 7, layers=2, bi=True), Dense(4, act="Relu")], I=3),
    Fixture("lstm_bi_2l_seq", 5, [Rec("lstm", 5, layers=2, bi=True, seq=True), Dense(3, act="Softmax")], I=2),
    Fixture("gru_uni_1l", 12, [Rec("gru", 33), Dense(5)], I=3, note="hidden 33"),
    Fixture("gru_uni_1l_seq", 8, [Rec("gru", 7, seq=True), Dense(3, act="Relu")], I=4),
    Fixture("gru_uni_3l", 6, [Rec("gru", 6, layers=3), Dense(1, act="Sigmoid")], I=2),
    Fixture("gru_uni_2l_seq", 7, [Rec("gru", 5, layers=2, seq=True), Dense(2, act="Softmax")], I=3),
    Fixture("gru_bi_1l", 8, [Rec("gru", 9, bi=True), Dense(2, act="Tanh")], I=2),
    Fixture("gru_bi_1l_seq", 6, [Rec("gru", 4, bi=True, seq=True), Dense(2)], I=3),
    Fixture("gru_bi_2l", 7, [Rec("gru", 6, layers=2, bi=True), Dense(3)], I=5),
    Fixture("gru_bi_2l_seq", 5, [Rec("gru", 5, layers=2, bi=True, seq=True), Dense(2, act="Tanh")], I=1),

    # ---- SimpleRnn activations ---------------------------------------------------------
    Fixture("rnn_relu", 10, [Rec("rnn", 13, act="Relu", scale=0.8), Dense(2)], I=3),
    Fixture("rnn_relu_bi_2l_seq", 6, [Rec("rnn", 5, act="Relu", layers=2, bi=True, seq=True, scale=0.8),
                                      Dense(2, act="Tanh")], I=2),
    Fixture("rnn_sigmoid", 8, [Rec("rnn", 6, act="Sigmoid"), Dense(3, act="Tanh")], I=2,
            note="sigmoid RNN: explicit float64 ops"),
    Fixture("rnn_sigmoid_2l_seq", 7, [Rec("rnn", 5, act="Sigmoid", layers=2, seq=True), Dense(2)], I=3),
    Fixture("rnn_sigmoid_bi", 6, [Rec("rnn", 4, act="Sigmoid", bi=True, merge="Average"), Dense(2)], I=2),

    # ---- merge modes -------------------------------------------------------------------
    Fixture("lstm_bi_sum", 8, [Rec("lstm", 6, bi=True, merge="Sum"), Dense(3)], I=3),
    Fixture("lstm_bi_sum_seq", 6, [Rec("lstm", 5, bi=True, seq=True, merge="Sum"), Dense(2)], I=2),
    Fixture("gru_bi_mul", 7, [Rec("gru", 6, bi=True, merge="Multiply"), Dense(2, act="Sigmoid")], I=4),
    Fixture("gru_bi_mul_seq", 6, [Rec("gru", 5, bi=True, seq=True, merge="Multiply"),
                                  Dense(3, act="Softmax")], I=3),
    Fixture("rnn_bi_avg", 7, [Rec("rnn", 6, bi=True, merge="Average"), Dense(2)], I=3),
    Fixture("rnn_bi_avg_seq", 5, [Rec("rnn", 4, bi=True, seq=True, merge="Average")], I=2,
            note="no head: merged per-step output"),
    Fixture("gru_bi_2l_sum", 6, [Rec("gru", 5, layers=2, bi=True, merge="Sum"), Dense(2, act="Tanh")], I=3),
    Fixture("lstm_bi_2l_avg_seq", 5, [Rec("lstm", 4, layers=2, bi=True, seq=True, merge="Average"),
                                      Dense(2)], I=3),
    Fixture("lstm_bi_2l_mul", 6, [Rec("lstm", 5, layers=2, bi=True, merge="Multiply")], I=2,
            note="no head: merged final states"),

    # ---- embeddings (token input) ---------------------------------------------------------
    Fixture("emb_gru_seq", 9, [Emb(11, 5), Rec("gru", 8, seq=True), Dense(11, act="Softmax")]),
    Fixture("emb_lstm", 12, [Emb(20, 6), Rec("lstm", 10), Dense(1, act="Sigmoid")]),
    Fixture("emb_gru_bi", 8, [Emb(7, 3), Rec("gru", 5, bi=True), Dense(2)]),
    # An embedding table of 20,000 values: above the generator's 16,384-value limit for literal arrays, so
    # its weights are compiled as a base64 string (WeightsEmitter.MaxLiteralValues).
    Fixture("emb_large_table", 6, [Emb(1000, 20), Rec("lstm", 7), Dense(3)]),

    # ---- heads ----------------------------------------------------------------------------
    Fixture("lstm_dense2", 8, [Rec("lstm", 9), Dense(8, weights="fc1", act="Relu"),
                               Dense(3, weights="fc2", act="Softmax")], I=3),
    Fixture("gru_dropout", 7, [Rec("gru", 7), Drop(0.25), Dense(6, weights="fc1", act="Tanh"), Drop(0.5),
                               Dense(2, weights="fc2")], I=2),
    Fixture("gru_dense2_seq", 6, [Rec("gru", 6, seq=True), Dense(5, weights="fc1", act="Sigmoid"),
                                  Dense(2, weights="fc2", act="Relu")], I=3),
    Fixture("lstm_nohead", 7, [Rec("lstm", 6)], I=3, note="no Dense head"),
    Fixture("gru_nohead_seq", 6, [Rec("gru", 5, seq=True)], I=2, note="no Dense head"),

    # ---- stacked recurrent attributes ----------------------------------------------------------
    Fixture("lstm_gru_stack", 8, [Rec("lstm", 13, weights="lstm1", seq=True), Rec("gru", 5, weights="gru2"),
                                  Dense(3)], I=3),
    Fixture("gru_lstm_stack_seq", 7, [Rec("gru", 6, weights="enc", seq=True), Drop(0.1),
                                      Rec("lstm", 4, weights="dec", seq=True), Dense(2, weights="out")], I=2),
    Fixture("bi_concat_stack", 7, [Rec("lstm", 5, weights="enc", bi=True, seq=True),
                                   Rec("gru", 4, weights="dec"), Dense(1)], I=3,
            note="bi concat (2H wide) sequence feeds a uni GRU"),
    Fixture("bi_sum_stack_seq", 6, [Rec("gru", 6, weights="enc", bi=True, seq=True, merge="Sum"), Drop(0.1),
                                    Rec("rnn", 4, weights="dec", seq=True), Dense(2, weights="out")], I=2,
            note="bi sum (H wide) sequence feeds a uni RNN"),

    # ---- absent biases ------------------------------------------------------------------------
    Fixture("lstm_nobias", 7, [Rec("lstm", 6, bias=False), Dense(2, bias=False)], I=3),
    Fixture("gru_bi_nobias_seq", 6, [Rec("gru", 4, bias=False, bi=True, seq=True), Dense(2)], I=2),
    Fixture("rnn_nobias", 6, [Rec("rnn", 5, bias=False, layers=2), Dense(2, bias=False, act="Tanh")], I=2),

    # ---- odd sizes ------------------------------------------------------------------------------
    Fixture("gru_h1", 9, [Rec("gru", 1), Dense(1)], I=3, note="hidden 1"),
    Fixture("lstm_h1_seq", 8, [Rec("lstm", 1, seq=True)], I=5, note="hidden 1, no head"),
    Fixture("rnn_h1_bi", 6, [Rec("rnn", 1, bi=True), Dense(2)], I=2, note="hidden 1"),
    Fixture("lstm_t1", 1, [Rec("lstm", 5), Dense(2)], I=4, note="T = 1"),
    Fixture("gru_bi_t1_seq", 1, [Rec("gru", 4, bi=True, seq=True), Dense(3)], I=3, note="T = 1"),
    Fixture("lstm_h33_seq", 6, [Rec("lstm", 33, seq=True, scale=2.0), Dense(3, act="Tanh")], I=5,
            note="hidden 33"),
    Fixture("lstm_long", 200, [Rec("lstm", 4), Dense(1)], I=1, note="T = 200"),
    Fixture("gru_long_seq", 256, [Rec("gru", 3, seq=True), Dense(1, act="Tanh")], I=2, note="T = 256"),
    Fixture("rnn_long", 220, [Rec("rnn", 3, scale=1.5), Dense(2)], I=1, note="T = 220"),

    # ---- storage dtypes ---------------------------------------------------------------------------
    Fixture("gru_f64", 7, [Rec("gru", 6), Dense(2)], I=3, dtype="F64",
            note="F64 tensors (genuine float64 values)"),
    Fixture("lstm_f16_seq", 6, [Rec("lstm", 5, seq=True), Dense(2)], I=2, dtype="F16"),
    Fixture("rnn_bf16", 7, [Rec("rnn", 6, layers=2), Dense(3, act="Softmax")], I=3, dtype="BF16"),

    # ---- tensor naming -----------------------------------------------------------------------------
    Fixture("encoder_lstm", 7, [Rec("lstm", 6, weights="encoder.lstm", layers=2),
                                Dense(3, weights="head.0", act="Tanh")], I=3,
            note="nested prefixes encoder.lstm and head.0 (nn.Sequential)"),
    Fixture("implicit_weights", 8, [Rec("lstm", 7, weights="lstm", name_weights=False),
                                    Dense(2, weights="head", name_weights=False)], I=2,
            note="no Weights = in C#; tensors lstm.* and head.*"),
    Fixture("bare_gru", 6, [Rec("gru", 5, weights="", seq=True, name_weights=False)], I=3, bare=True,
            note="bare nn.GRU state_dict (no prefix at all: weight_ih_l0 ...); no Weights ="),
]

# --------------------------------------------------------------------------------------
# Keras-layout fixtures: built and referenced like the ones above (PyTorch float64), under Keras
# layer names, then stored as Keras weights (make_variant_fixtures.py: transposed kernels, GRU gates
# z,r,h, one summed bias for LSTM / SimpleRNN, [2, 3H] for GRU) and declared with
# Convention = WeightConvention.Keras. Their biases are rounded to multiples of 2^-16 so that
# b_ih + b_hh is exact in float32. Stacks are separate attributes (lstm, lstm_1).
# --------------------------------------------------------------------------------------

KERAS_FIXTURES = [
    Fixture("keras_rnn", 7, [Rec("rnn", 7, weights="simple_rnn"), Dense(3, weights="dense", act="Softmax")], I=3,
            keras=KerasOut("npz")),
    Fixture("keras_rnn_relu_seq", 6, [Rec("rnn", 5, weights="simple_rnn", act="Relu", seq=True, scale=0.8),
                                      Dense(2, weights="dense")], I=2, keras=KerasOut("npz")),
    Fixture("keras_lstm", 7, [Rec("lstm", 13, weights="lstm"), Dense(4, weights="dense", act="Sigmoid")], I=3,
            keras=KerasOut("npz_stored"), note="np.savez (stored, not compressed)"),
    Fixture("keras_lstm_seq", 8, [Rec("lstm", 9, weights="lstm", seq=True), Dense(2, weights="dense")], I=2,
            keras=KerasOut("npz", suffix0=True), note="names with a TF-style :0 suffix"),
    Fixture("keras_gru", 8, [Rec("gru", 10, weights="gru"), Dense(2, weights="dense", act="Tanh")], I=3,
            keras=KerasOut("npz"), note="reset_after=True: bias [2, 3H]"),
    Fixture("keras_gru_bi_seq", 6, [Rec("gru", 5, weights="bidirectional", bi=True, seq=True),
                                    Dense(2, weights="dense")], I=3, keras=KerasOut("npz")),
    Fixture("keras_lstm_stack", 8, [Rec("lstm", 8, weights="lstm", seq=True), Drop(0.2), Rec("lstm", 8, weights="lstm_1"),
                                    Dense(3, weights="dense", act="Softmax")], I=4, keras=KerasOut("npz"),
            note="two stacked Keras LSTM layers"),
    Fixture("keras_lstm_bi", 9, [Rec("lstm", 8, weights="bidirectional", bi=True), Dense(2, weights="dense")], I=5,
            keras=KerasOut("npz")),
    Fixture("keras_lstm_bi_sum_seq", 6, [Rec("lstm", 5, weights="bidirectional", bi=True, seq=True, merge="Sum"),
                                         Dense(2, weights="dense")], I=2, keras=KerasOut("npz")),
    Fixture("keras_lstm_bi_avg", 7, [Rec("lstm", 6, weights="bidirectional", bi=True, merge="Average"),
                                     Dense(3, weights="dense", act="Softmax")], I=3, keras=KerasOut("npz")),
    Fixture("keras_emb_lstm", 10, [Emb(15, 4, weights="embedding"), Rec("lstm", 8, weights="lstm"),
                                   Dense(3, weights="dense", act="Softmax")], keras=KerasOut("npz")),
    Fixture("keras_dense_nobias", 7, [Rec("gru", 6, weights="gru"), Dense(2, weights="dense", bias=False)], I=3,
            keras=KerasOut("npz"), note="Dense(use_bias=False): no dense/bias tensor"),
    Fixture("keras_gru_safetensors", 6, [Rec("gru", 7, weights="gru", seq=True), Dense(2, weights="dense", act="Relu")],
            I=2, keras=KerasOut("safetensors"), note="Keras names in a .safetensors file"),
    Fixture("keras_gru_f64", 7, [Rec("gru", 6, weights="gru"), Dense(2, weights="dense")], I=3, dtype="F64",
            keras=KerasOut("npz"), note="float64 arrays"),
    Fixture("keras_lstm_be", 7, [Rec("lstm", 6, weights="lstm", seq=True), Dense(2, weights="dense", act="Tanh")],
            I=3, keras=KerasOut("npz", big_endian=True), note="big-endian float32 (>f4) arrays"),
    # A kernel above the generator's literal limit (16,384 values) is read from the embedded .npz at run time and
    # converted there (transposed, GRU gates z, r, h reordered): this checks that path numerically.
    Fixture("keras_gru_large", 3, [Rec("gru", 64, weights="gru"), Dense(2, weights="dense")], I=86,
            keras=KerasOut("npz_stored"), note="kernel [86, 192] = 16,512 values: read from the embedded file"),
]


# --------------------------------------------------------------------------------------
# Building the torch modules
# --------------------------------------------------------------------------------------

def _set_module(root, path, module):
    parts = path.split(".")
    parent = root
    for p in parts[:-1]:
        if not hasattr(parent, p) or getattr(parent, p) is None:
            if p.isdigit():
                raise ValueError("numeric intermediate path segments are not supported")
            setattr(parent, p, nn.Module())
        parent = getattr(parent, p)
    last = parts[-1]
    if last.isdigit():
        # nn.Sequential child (head.0): the parent must be a Sequential
        assert isinstance(parent, nn.Sequential) or len(parent._modules) == 0
        parent.add_module(last, module)
    else:
        setattr(parent, last, module)


def _build_root(fx):
    """Returns (root module, {path: module}); parameters freshly drawn."""
    dt = torch.float64 if fx.dtype == "F64" else torch.float32
    mods = {}
    feat = fx.I
    root = None
    if not fx.bare:
        root = nn.Module()
    for L in fx.layers:
        if L.kind == "emb":
            m = nn.Embedding(L.vocab, L.dim, dtype=dt)
            feat = L.dim
        elif L.kind in REC_KINDS:
            kw = dict(num_layers=L.layers, bidirectional=L.bi, bias=L.bias, batch_first=True, dtype=dt)
            if L.kind == "lstm":
                m = nn.LSTM(feat, L.hidden, **kw)
            elif L.kind == "gru":
                m = nn.GRU(feat, L.hidden, **kw)
            else:
                nonlin = "relu" if L.act == "Relu" else "tanh"   # sigmoid: stored like any nn.RNN
                m = nn.RNN(feat, L.hidden, nonlinearity=nonlin, **kw)
            feat = 2 * L.hidden if (L.bi and (L.merge or "Concat") == "Concat") else L.hidden
        elif L.kind == "dense":
            m = nn.Linear(feat, L.units, bias=L.bias, dtype=dt)
            feat = L.units
        else:
            continue
        mods[L.path] = m
        if fx.bare:
            assert root is None
            root = m
        else:
            if "." in L.path and L.path.split(".")[-1].isdigit():
                seq_path = L.path.rsplit(".", 1)[0]
                _set_module(root, seq_path, nn.Sequential())
            _set_module(root, L.path, m)
    return root, mods


def _init_weights(fx, mods, scale_factor):
    with torch.no_grad():
        for L in fx.layers:
            if L.path is None:
                continue
            m = mods[L.path]
            for p in m.parameters():
                p.mul_(L.scale * scale_factor)


def _quantize_biases(mods):
    """Keras fixtures: biases to multiples of 2^-16, so that b_ih + b_hh (Keras' one bias) is exact."""
    with torch.no_grad():
        for m in mods.values():
            for n, p in m.named_parameters():
                if n.split(".")[-1].startswith("bias"):
                    p.copy_(torch.round(p.double() / variants.BIAS_GRID).mul(variants.BIAS_GRID).to(p.dtype))


def _state_dict_to_storage(fx, root):
    """state_dict in the storage dtype (the values the file holds)."""
    sd = root.state_dict()
    out = {}
    for k, v in sd.items():
        v = v.detach()
        if fx.dtype == "F16":
            v = v.to(torch.float16)
        elif fx.dtype == "BF16":
            v = v.to(torch.bfloat16)
        elif fx.dtype == "F64":
            v = v.to(torch.float64)
        else:
            v = v.to(torch.float32)
        out[k] = v.clone()
    return out


# --------------------------------------------------------------------------------------
# safetensors writer
# --------------------------------------------------------------------------------------

def manual_rnn(m, x, act):
    """nn.RNN-shaped forward with an arbitrary state activation (used for Sigmoid, which
    PyTorch lacks): h = act(W_ih x + b_ih + W_hh h + b_hh), all ops in x's dtype."""
    N, T, _ = x.shape
    H = m.hidden_size
    dirs = 2 if m.bidirectional else 1
    inp = x
    for l in range(m.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{l}" + ("_reverse" if d == 1 else "")
            w_ih = getattr(m, "weight_ih" + sfx)
            w_hh = getattr(m, "weight_hh" + sfx)
            b_ih = getattr(m, "bias_ih" + sfx) if m.bias else torch.zeros(H, dtype=x.dtype)
            b_hh = getattr(m, "bias_hh" + sfx) if m.bias else torch.zeros(H, dtype=x.dtype)
            h = torch.zeros(N, H, dtype=x.dtype)
            seq = [None] * T
            order = range(T) if d == 0 else range(T - 1, -1, -1)
            for t in order:
                h = act(inp[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
                seq[t] = h
            outs.append(torch.stack(seq, dim=1))
        inp = torch.cat(outs, dim=2)
    return inp


def _merge(f, b, mode):
    mode = mode or "Concat"
    if mode == "Concat":
        return torch.cat([f, b], dim=-1)
    if mode == "Sum":
        return f + b
    if mode == "Multiply":
        return f * b
    if mode == "Average":
        return (f + b) / 2
    raise ValueError(mode)


def _activate(h, act):
    if act == "None":
        return h
    if act == "Sigmoid":
        return torch.sigmoid(h)
    if act == "Tanh":
        return torch.tanh(h)
    if act == "Relu":
        return torch.relu(h)
    if act == "Softmax":
        return torch.softmax(h, dim=-1)
    raise ValueError(act)


def forward(fx, mods, x, step_mode=False):
    """x: (N, T, I) float tensor or (N, T) long tokens. Returns (N, ...) tensor.
    step_mode: the last recurrent layer hands on every step (what Step sees), so the result is
    the head applied to the top state after each step: (N, T, StepOutputSize)."""
    rec_idx = [i for i, L in enumerate(fx.layers) if L.kind in REC_KINDS]
    last_rec = rec_idx[-1]
    h = x
    is_seq = True
    for i, L in enumerate(fx.layers):
        if L.kind == "emb":
            h = mods[L.path](h)
        elif L.kind in REC_KINDS:
            assert is_seq, "a recurrent layer needs a sequence"
            m = mods[L.path]
            if L.act == "Sigmoid":
                out = manual_rnn(m, h, torch.sigmoid)
            else:
                out, h_n = m(h)
                # cross-check the many-to-one reading against h_n
                hn = h_n[0] if isinstance(h_n, tuple) else h_n
                H = L.hidden
                if L.bi:
                    assert _same(out[:, -1, :H], hn[-2]) and _same(out[:, 0, H:], hn[-1])
                else:
                    assert _same(out[:, -1], hn[-1])
            keep = L.seq or (step_mode and i == last_rec)
            H = L.hidden
            if L.bi:
                fwd, bwd = out[..., :H], out[..., H:]
                if not keep:
                    fwd, bwd = fwd[:, -1], bwd[:, 0]
                h = _merge(fwd, bwd, L.merge)
            else:
                h = out if keep else out[:, -1]
            is_seq = keep
        elif L.kind == "dense":
            h = _activate(mods[L.path](h), L.act)
        elif L.kind == "dropout":
            pass
    return h


def _same(a, b):
    """Bit-equal, NaN equal to NaN (make_edge_fixtures.py feeds NaN)."""
    return torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


def _sanity_check_manual_rnn():
    torch.manual_seed(1234)
    m = nn.RNN(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    ref, _ = m(x)
    mine = manual_rnn(m, x, torch.tanh)
    assert torch.allclose(ref, mine, rtol=0, atol=1e-13), "manual RNN disagrees with nn.RNN"


# --------------------------------------------------------------------------------------
# Fixture generation
# --------------------------------------------------------------------------------------

def _seed_for(name, salt=0):
    # stable across runs and machines (no Python hash randomisation)
    h = 1469598103934665603
    for ch in name.encode("utf-8"):
        h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return (h ^ salt) & 0x7FFFFFFF


def _make_inputs(fx):
    g = torch.Generator().manual_seed(_seed_for(fx.name, 7))
    if fx.tokens:
        vocab = fx.layers[0].vocab
        tok = torch.randint(0, vocab, (N_SEQUENCES, fx.T), generator=g)
        # make sure the first and last vocabulary entries are exercised
        tok[0, 0] = 0
        tok[0, -1] = vocab - 1
        return tok
    x = torch.randn(N_SEQUENCES, fx.T, fx.I, generator=g) * fx.in_scale
    big = torch.rand(N_SEQUENCES, fx.T, fx.I, generator=g) < 0.08
    x = torch.where(big, x * 3.0, x)
    return x.float()


def _out_info(fx):
    """(OutputSize, StepOutputSize, per_step_output, units_per_step)."""
    feat = fx.I
    seq = True
    units = None
    for L in fx.layers:
        if L.kind == "emb":
            units = L.dim
        elif L.kind in REC_KINDS:
            seq = L.seq
            units = 2 * L.hidden if (L.bi and (L.merge or "Concat") == "Concat") else L.hidden
        elif L.kind == "dense":
            units = L.units
    out_size = fx.T * units if seq else units
    step_size = 0 if fx.bidirectional else units
    return out_size, step_size, seq, units


def build_fixture(fx):
    out_size, step_size, per_step, units = _out_info(fx)
    x32 = _make_inputs(fx)
    factor = 1.0
    for attempt in range(8):
        torch.manual_seed(_seed_for(fx.name))
        root, mods = _build_root(fx)
        _init_weights(fx, mods, factor)
        if fx.keras is not None:
            _quantize_biases(mods)
        stored = _state_dict_to_storage(fx, root)

        def run(dtype):
            # the stored values (F16/BF16-rounded, F32 or genuine F64) converted to `dtype`
            r = copy.deepcopy(root).to(dtype)
            r.load_state_dict({k: v.to(dtype) for k, v in stored.items()}, strict=True)
            r.eval()
            ms = _modules_by_path(fx, r)
            xin = x32 if fx.tokens else x32.to(dtype)
            with torch.no_grad():
                y = forward(fx, ms, xin).reshape(N_SEQUENCES, -1)
                ys = None if fx.bidirectional else forward(fx, ms, xin, step_mode=True).reshape(N_SEQUENCES, -1)
            return y, ys

        y64, s64 = run(torch.float64)
        y32, s32 = run(torch.float32)
        err = (y32.double() - y64).abs().max().item()
        if s64 is not None:
            err = max(err, (s32.double() - s64).abs().max().item())
        mag = y64.abs().max().item()
        if err <= F32_TOLERANCE and mag <= MAX_ABS_OUTPUT:
            break
        factor *= 0.85
    else:
        raise RuntimeError(f"{fx.name}: could not meet f32 tolerance / magnitude (err {err}, |y| {mag})")

    assert y64.shape == (N_SEQUENCES, out_size), (fx.name, y64.shape, out_size)
    if s64 is not None:
        assert s64.shape == (N_SEQUENCES, fx.T * step_size)
        if per_step:
            assert torch.equal(s64, y64), fx.name + ": per-step Step output must equal Predict"
        else:
            last = s64[:, -(step_size):]
            assert torch.allclose(last, y64, rtol=0, atol=1e-12), fx.name + ": last Step output must equal Predict"
    assert torch.isfinite(y64).all()
    return dict(fx=fx, stored=stored, x=x32, y=y64, s=s64, err=err, mag=mag, factor=factor,
                out_size=out_size, step_size=step_size, attempts=attempt + 1)


def _modules_by_path(fx, root):
    mods = {}
    for L in fx.layers:
        if L.path is None:
            continue
        if fx.bare:
            mods[L.path] = root
        else:
            mods[L.path] = root.get_submodule(L.path)
    return mods


def _fmt_list(vals):
    return "[" + ", ".join(vals) + "]"


def write_json(path, r):
    fx = r["fx"]
    lines = ["{"]
    lines.append(f'  "name": {json.dumps(fx.name)},')
    lines.append(f'  "sequenceLength": {fx.T},')
    lines.append(f'  "inputSize": {1 if fx.tokens else fx.I},')
    lines.append(f'  "outputSize": {r["out_size"]},')
    lines.append(f'  "stepOutputSize": {r["step_size"]},')
    if fx.tokens:
        rows = [_fmt_list(str(int(v)) for v in seq.tolist()) for seq in r["x"]]
        key = "tokens"
    else:
        rows = [_fmt_list(repr(float(v)) for v in seq.reshape(-1).numpy().astype(np.float32).tolist())
                for seq in r["x"]]
        key = "inputs"
    lines.append(f'  "{key}": [\n    ' + ",\n    ".join(rows) + "\n  ],")
    rows = [_fmt_list(repr(float(v)) for v in seq.tolist()) for seq in r["y"]]
    lines.append('  "expected": [\n    ' + ",\n    ".join(rows) + "\n  ],")
    if r["s"] is None:
        lines.append('  "stepExpected": null')
    else:
        rows = [_fmt_list(repr(float(v)) for v in seq.tolist()) for seq in r["s"]]
        lines.append('  "stepExpected": [\n    ' + ",\n    ".join(rows) + "\n  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # well-formed
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# --------------------------------------------------------------------------------------
# C# emission
# --------------------------------------------------------------------------------------

def class_name(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def _attr(fx, L):
    if L.kind == "emb":
        args = [str(L.vocab), str(L.dim)]
        if L.name_weights:
            args.append(f'Weights = "{L.path}"')
        return f"[Embedding({', '.join(args)})]"
    if L.kind == "dropout":
        return f"[Dropout({L.rate!r}f)]"
    if L.kind == "dense":
        args = [str(L.units)]
        if L.name_weights:
            args.append(f'Weights = "{L.path}"')
        if L.act != "None":
            args.append(f"Activation = Activation.{L.act}")
        return f"[Dense({', '.join(args)})]"
    attr = {"lstm": "Lstm", "gru": "Gru", "rnn": "SimpleRnn"}[L.kind]
    args = [str(L.hidden)]
    if L.name_weights:
        args.append(f'Weights = "{L.path}"')
    if L.layers != 1:
        args.append(f"Layers = {L.layers}")
    if L.bi:
        args.append("Bidirectional = true")
    if L.seq:
        args.append("ReturnSequences = true")
    if L.merge is not None:
        args.append(f"MergeMode = MergeMode.{L.merge}")
    if L.kind == "rnn" and L.act != "Tanh":
        args.append(f"Activation = Activation.{L.act}")
    if getattr(L, "peephole", False):
        args.append("Peephole = true")
    if getattr(L, "coupled", False):
        args.append("CoupledInputForget = true")
    if L.kind == "gru" and not getattr(L, "reset_after", True):
        args.append("ResetAfter = false")
    return f"[{attr}({', '.join(args)})]"


def write_cs(path, results):
    out = []
    out.append("// <auto-generated> by tools/make_fixtures.py; do not edit. </auto-generated>")
    out.append("using System;")
    out.append("using StaticRnn;")
    out.append("")
    out.append("namespace StaticRnn.Tests.Fixtures;")
    out.append("")
    for r in results:
        fx = r["fx"]
        cn = class_name(fx.name)
        if fx.note:
            out.append(f"// {fx.note}")
        args = [f'"Fixtures/{fx.weight_file}"', f"SequenceLength = {fx.T}"]
        if not fx.tokens:
            args.append(f"InputSize = {fx.I}")
        if fx.convention != "PyTorch":
            args.append(f"Convention = WeightConvention.{fx.convention}")
        out.append(f"[RnnModel({', '.join(args)})]")
        for L in fx.layers:
            out.append(_attr(fx, L))
        out.append(f"public static partial class {cn} {{ }}")
        out.append("")
    out.append("public static class FixtureCatalog")
    out.append("{")
    out.append("    public static readonly FixtureModel[] All =")
    out.append("    [")
    for r in results:
        fx = r["fx"]
        c = class_name(fx.name)
        head = f'new FixtureModel("{fx.name}", {c}.SequenceLength, {c}.InputSize, {c}.OutputSize, '
        if fx.bidirectional:
            head += "0,"
        else:
            head += f"{c}.StepOutputSize,"
        out.append("        " + head)
        if fx.bidirectional:
            step = "null"
        elif fx.tokens:
            step = (f"(tok, y) => {{ var s = default({c}.State); for (int t = 0; t < {c}.SequenceLength; t++) "
                    f"{c}.Step(ref s, tok[t], y.Slice(t * {c}.StepOutputSize, {c}.StepOutputSize)); }}")
        else:
            step = (f"(x, y) => {{ var s = default({c}.State); for (int t = 0; t < {c}.SequenceLength; t++) "
                    f"{c}.Step(ref s, x.Slice(t * {c}.InputSize, {c}.InputSize), "
                    f"y.Slice(t * {c}.StepOutputSize, {c}.StepOutputSize)); }}")
        if fx.tokens:
            out.append(f"            null, null, null,")
            out.append(f"            {c}.Predict, {c}.PredictBatch,")
            out.append(f"            {step}),")
        else:
            out.append(f"            {c}.Predict, {c}.PredictBatch,")
            out.append(f"            {step},")
            out.append(f"            null, null, null),")
    out.append("    ];")
    out.append("")
    out.append("    /// <summary>The fixtures with an ONNX twin, Fixtures/&lt;name&gt;.onnx (input x [batch, steps, InputSize],")
    out.append("    /// output y [batch, OutputSize]): ONNX Runtime is their oracle (OnnxOracleTests).</summary>")
    out.append("    public static readonly string[] OnnxOracle =")
    out.append("    [")
    for r in results:
        if r["fx"].onnx:
            out.append(f'        "{r["fx"].name}",')
    out.append("    ];")
    out.append("}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


# --------------------------------------------------------------------------------------

def _cell_desc(fx):
    parts = []
    for L in fx.layers:
        if L.kind == "emb":
            parts.append(f"Emb({L.vocab},{L.dim})")
        elif L.kind in REC_KINDS:
            s = {"lstm": "Lstm", "gru": "Gru", "rnn": "Rnn"}[L.kind]
            if L.kind == "rnn" and L.act != "Tanh":
                s += "/" + L.act.lower()
            s += f"({L.hidden}"
            if L.layers > 1:
                s += f",x{L.layers}"
            if L.bi:
                s += ",bi" + ("" if L.merge in (None, "Concat") else "-" + L.merge.lower()[:3])
            if L.seq:
                s += ",seq"
            if not L.bias:
                s += ",nobias"
            if getattr(L, "peephole", False):
                s += ",peep"
            if getattr(L, "coupled", False):
                s += ",cifg"
            if L.kind == "gru" and not getattr(L, "reset_after", True):
                s += ",rb"
            s += ")"
            parts.append(s)
        elif L.kind == "dense":
            s = f"D({L.units}" + ("" if L.act == "None" else "," + L.act.lower()[:4]) + ("" if L.bias else ",nobias") + ")"
            parts.append(s)
        else:
            parts.append("Drop")
    return " ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root_dir, "tests", "StaticRnn.Tests", "Fixtures"))
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    _sanity_check_manual_rnn()
    variants._sanity_check_canon()

    everything = FIXTURES + KERAS_FIXTURES + variants.ONNX_FIXTURES
    names = [fx.name for fx in everything]
    assert len(names) == len(set(names)), "duplicate fixture names"
    classes = [class_name(n) for n in names]
    assert len(classes) == len(set(classes)), "duplicate class names"

    os.makedirs(args.out, exist_ok=True)
    results = []
    sens = []
    total = 0
    print(f"{'name':<26} {'dtype':<5} {'T':>4} {'in':>3} {'out':>5} {'step':>4}  {'max|y|':>6} {'f32 err':>9} {'scale':>5}  "
          f"{'conv err':>9}  layers")
    for fx in everything:
        if fx.onnx:
            # weights file + .onnx, numpy float64 reference (make_variant_fixtures.py)
            r = variants.build_onnx_fixture(fx, _seed_for(fx.name), _make_inputs(fx), args.out, N_SEQUENCES)
            paths = r["files"]
            conv = f"{r['conv_err']:>9.2e}"
            sens.append(min(r["sensitivity"].values()))
        else:
            r = build_fixture(fx)
            if fx.keras is not None:
                path, _, conv_err = variants.write_keras_fixture(args.out, fx, r["stored"], r["x"], r["y"], r["s"])
                paths = [path]
                conv = f"{conv_err:>9.2e}"
            else:
                st_path = os.path.join(args.out, fx.name + ".safetensors")
                write_safetensors(st_path, r["stored"])
                back = read_safetensors(st_path)
                assert set(back) == set(r["stored"])
                for k, v in r["stored"].items():
                    assert np.array_equal(back[k], v.to(torch.float64).numpy()), (fx.name, k)
                paths = [st_path]
                conv = f"{'':>9}"
        results.append(r)
        js_path = os.path.join(args.out, fx.name + ".json")
        write_json(js_path, r)
        total += sum(os.path.getsize(p) for p in paths) + os.path.getsize(js_path)
        ins = fx.layers[0].vocab if fx.tokens else fx.I
        kind = fx.dtype if fx.keras is None else ("K" + fx.keras.fmt[:3] + ("BE" if fx.keras.big_endian else ""))
        print(f"{fx.name:<26} {kind:<5} {fx.T:>4} {('v' if fx.tokens else '') + str(ins):>3} {r['out_size']:>5} "
              f"{r['step_size']:>4}  {r['mag']:>6.3f} {r['err']:>9.2e} {r['factor']:>5.2f}  {conv}  "
              f"{'ONNX ' if fx.onnx else ''}{_cell_desc(fx)}")
    cs_path = os.path.join(args.out, "FixtureModels.cs")
    write_cs(cs_path, results)
    total += os.path.getsize(cs_path)
    worst = max(results, key=lambda r: r["err"])
    print(f"\n{len(results)} fixtures ({len(FIXTURES)} PyTorch, {len(KERAS_FIXTURES)} Keras layout, "
          f"{len(variants.ONNX_FIXTURES)} ONNX oracle), {total / 1024:.1f} KiB in {os.path.relpath(args.out, root_dir)}; "
          f"max f32-vs-f64 error {worst['err']:.3e} ({worst['fx'].name}); smallest output change when a variant "
          f"feature is switched off {min(sens):.3f}")

if __name__ == "__main__":
    main()
