#!/usr/bin/python3
"""Keras-layout and ONNX-oracle fixtures; a library for make_fixtures.py.

make_fixtures.py writes the one FixtureModels.cs for every fixture, so it is the script to run
(running this file runs it). This module holds the parts that are not plain PyTorch:

Keras layout (KERAS_* helpers). make_fixtures.py builds some fixtures with its PyTorch machinery
(expected outputs from PyTorch float64) under Keras layer names (``lstm``, ``lstm_1``,
``bidirectional``, ``dense``, ``embedding``) and hands the state_dict here, which

  * converts it to Keras weights: ``{layer}/{cell}/kernel`` [in, G*H] = weight_ih^T,
    ``recurrent_kernel`` [H, G*H] = weight_hh^T, ``bias``: LSTM / SimpleRNN one [G*H] vector
    b_ih + b_hh (exact: make_fixtures.py rounds those fixtures' biases to multiples of 2^-16),
    GRU (reset_after=True) [2, 3H] = [b_ih; b_hh]; GRU gate blocks reordered r,z,n -> z,r,h
    (LSTM i,f,g,o = Keras i,f,c,o); Bidirectional layers as
    ``{layer}/forward_{inner}/{cell}/...`` and ``{layer}/backward_{inner}/{cell}/...``;
    ``dense/kernel`` [in, out] = weight^T, ``dense/bias``; ``embedding/embeddings``;
  * writes them with np.savez (stored), np.savez_compressed (deflate) or as .safetensors, names
    optionally with a TF-style ``:0`` suffix, float32, float64 or big-endian float32 (``>f4``);
  * reads the file back and runs an independent float64 NumPy forward pass with Keras
    semantics, asserting it reproduces the PyTorch expected outputs within 1e-9.

ONNX oracle (ONNX_FIXTURES). Variants PyTorch lacks: Gru(ResetAfter = false) (ONNX GRU
linear_before_reset=0, Keras reset_after=False), Lstm(Peephole = true) and
Lstm(CoupledInputForget = true) (ONNX LSTM input P and input_forget=1), and both together. For
each fixture this module

  * draws the weights in PyTorch layout (``rnn.weight_ih_l{k}[_reverse]`` [G*H, in] in gate order
    LSTM i,f,g,o / GRU r,z,n, ``weight_hh``, ``bias_ih``, ``bias_hh``; peepholes
    ``rnn.peephole_{i,f,o}_l{k}[_reverse]`` [H]; ``fc.weight`` [out, in], ``fc.bias``); a coupled
    LSTM keeps random values in its forget blocks (and forget peephole), which must be ignored;
  * computes the expected outputs with a float64 NumPy implementation of the equations (and the
    float32 one within 2e-6, scaling the weights down and retrying like make_fixtures.py);
  * writes the weights in the declared convention: PyTorch (.safetensors, the names above) or
    Keras (.npz: GRU reset_after=False ``bias`` [3H] = b_ih + b_hh in z,r,h order; peephole LSTM
    ``lstm/peephole_lstm_cell/{kernel,recurrent_kernel,bias,input_gate_peephole_weights,
    forget_gate_peephole_weights,output_gate_peephole_weights}``);
  * builds the same network as an ONNX graph (opset 14): input ``x`` float32
    [batch, steps, I] (both dynamic), Transpose to ONNX's [steps, batch, I], one LSTM/GRU node
    per layer (direction forward or bidirectional; W [D,G*H,I], R [D,G*H,H], B [D,2*G*H] =
    [Wb | Rb], P [D,3H]; gate orders LSTM i,o,f,c and GRU z,r,h), Gather/merge to the per-step
    or final state, MatMul + Add + activation as the head, output ``y`` float32
    [batch, OutputSize] (per-step models: [batch, steps * units], step-major);
    onnx.checker.check_model(full_check=True) must pass;
  * checks the stored files: the weight file read back and run with the declared convention's
    equations (Keras ones for .npz), and the ONNX initializers run with ONNX's equations, must
    reproduce the expected outputs within 1e-9 (ONNX Runtime itself runs in the C# tests,
    OnnxOracleTests: there is no onnxruntime for Python here).
"""

import os
import zipfile

import numpy as np
import torch

from safetensors_io import read_safetensors, write_safetensors

CONVERSION_TOLERANCE = 1e-9     # float64 re-implementations from the stored files vs the reference
F32_TOLERANCE = 2e-6
MAX_ABS_OUTPUT = 5.0
BIAS_GRID = 2.0 ** -16          # biases on this grid sum exactly in float32 (|b| < 128)
REC_KINDS = ("lstm", "gru", "rnn")

# gate block permutations (index = new block, value = PyTorch block)
GRU_PT_TO_KERAS = (1, 0, 2)      # r,z,n -> z,r,h
GRU_PT_TO_ONNX = (1, 0, 2)       # r,z,n -> z,r,h
LSTM_PT_TO_ONNX = (0, 3, 1, 2)   # i,f,g,o -> i,o,f,c
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def quantize(a):
    """Rounds to multiples of 2^-16 (float32 in, float32 out); sums of two such values are exact."""
    return (np.round(np.asarray(a, dtype=np.float64) / BIAS_GRID) * BIAS_GRID).astype(a.dtype)


def _blocks(a, H, order):
    """Reorders gate blocks of H rows along axis 0 (order[new] = old block)."""
    return np.concatenate([a[g * H:(g + 1) * H] for g in order], axis=0)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _activate(h, act):
    if act == "None":
        return h
    if act == "Sigmoid":
        return _sigmoid(h)
    if act == "Tanh":
        return np.tanh(h)
    if act == "Relu":
        return np.maximum(h, 0)
    if act == "Softmax":
        e = np.exp(h - h.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(act)


def _merge(f, b, mode):
    mode = mode or "Concat"
    if mode == "Concat":
        return np.concatenate([f, b], axis=-1)
    if mode == "Sum":
        return f + b
    if mode == "Multiply":
        return f * b
    if mode == "Average":
        return (f + b) / 2
    raise ValueError(mode)


def stack_forward(layers, x, run_dir, dense, emb=None, step_mode=False):
    """The plumbing shared by every NumPy forward pass here. x: (N, T, I) floats or (N, T) tokens.
    run_dir(L, k, d, inp) -> (N, T, H): layer k of recurrent attribute L, direction d (1 = backward:
    runs over the reversed sequence, returned in the original time order). Inner layers of a
    multi-layer attribute hand on the concatenated directions; the attribute's last layer is merged
    (MergeMode) and, unless ReturnSequences (or step_mode for the last recurrent attribute: what Step
    yields after each step), reduced to the forward state after the last step and the backward state
    after the first step. Returns (N, OutputSize)."""
    N = x.shape[0]
    rec = [i for i, L in enumerate(layers) if L.kind in REC_KINDS]
    h = x
    for i, L in enumerate(layers):
        if L.kind == "emb":
            h = emb(L, h)
        elif L.kind in REC_KINDS:
            inp = h
            for k in range(L.layers):
                outs = [run_dir(L, k, d, inp) for d in range(2 if L.bi else 1)]
                inp = np.concatenate(outs, axis=-1)
            keep = L.seq or (step_mode and i == rec[-1])
            f = outs[0]
            if L.bi:
                b = outs[1]
                if not keep:
                    f, b = f[:, -1], b[:, 0]
                h = _merge(f, b, L.merge)
            else:
                h = f if keep else f[:, -1]
        elif L.kind == "dense":
            h = dense(L, h)
    return h.reshape(N, -1)


def _time_loop(x, d, H, dtype, step):
    """Runs step(x_t, state) -> state over x (N, T, F), backwards when d == 1; state[0] is h."""
    N, T, _ = x.shape
    state = (np.zeros((N, H), dtype), np.zeros((N, H), dtype))
    out = np.zeros((N, T, H), dtype)
    for t in (range(T) if d == 0 else range(T - 1, -1, -1)):
        state = step(x[:, t], state)
        out[:, t] = state[0]
    return out


# --------------------------------------------------------------------------------------
# Keras layout
# --------------------------------------------------------------------------------------

KERAS_BASE = {"lstm": "lstm", "gru": "gru", "rnn": "simple_rnn"}


class KerasOut:
    """How a Keras-layout fixture is stored. fmt: npz (np.savez_compressed, deflate), npz_stored
    (np.savez), safetensors (Keras names in a .safetensors file)."""

    def __init__(self, fmt="npz", suffix0=False, big_endian=False):
        assert fmt in ("npz", "npz_stored", "safetensors")
        assert not (big_endian and fmt == "safetensors")
        self.fmt = fmt
        self.suffix0 = suffix0
        self.big_endian = big_endian

    @property
    def ext(self):
        return ".safetensors" if self.fmt == "safetensors" else ".npz"

    def describe(self):
        s = {"npz": "np.savez_compressed", "npz_stored": "np.savez (stored)", "safetensors": "safetensors"}[self.fmt]
        if self.big_endian:
            s += ", >f4"
        if self.suffix0:
            s += ", ':0' names"
        return s


def _keras_cell(L):
    if L.kind == "lstm" and getattr(L, "peephole", False):
        return "peephole_lstm_cell"
    return KERAS_BASE[L.kind] + "_cell"


def keras_prefixes(L):
    """[(pytorch direction suffix, Keras weight prefix)] of a one-layer recurrent attribute."""
    assert L.layers == 1, "Keras stacks are separate attributes"
    cell = _keras_cell(L)
    if not L.bi:
        return [("", f"{L.path}/{cell}")]
    base = KERAS_BASE[L.kind]
    return [("", f"{L.path}/forward_{base}/{cell}"), ("_reverse", f"{L.path}/backward_{base}/{cell}")]


def keras_tensors(layers, sd):
    """PyTorch-layout arrays (name -> numpy, storage dtype) -> Keras weights, in model.weights order.
    Also handles the variant layouts (peepholes, reset_after=False GRU)."""
    out = {}
    for L in layers:
        if L.kind == "emb":
            out[f"{L.path}/embeddings"] = sd[f"{L.path}.weight"]
        elif L.kind == "dense":
            out[f"{L.path}/kernel"] = np.ascontiguousarray(sd[f"{L.path}.weight"].T)
            if L.bias:
                out[f"{L.path}/bias"] = sd[f"{L.path}.bias"]
        elif L.kind in REC_KINDS:
            H = L.hidden
            reset_after = getattr(L, "reset_after", True)
            for sfx, prefix in keras_prefixes(L):
                wih = sd[f"{L.path}.weight_ih_l0{sfx}"]
                whh = sd[f"{L.path}.weight_hh_l0{sfx}"]
                if L.kind == "gru":
                    wih, whh = _blocks(wih, H, GRU_PT_TO_KERAS), _blocks(whh, H, GRU_PT_TO_KERAS)
                out[prefix + "/kernel"] = np.ascontiguousarray(wih.T)
                out[prefix + "/recurrent_kernel"] = np.ascontiguousarray(whh.T)
                if L.bias:
                    bih = sd[f"{L.path}.bias_ih_l0{sfx}"]
                    bhh = sd[f"{L.path}.bias_hh_l0{sfx}"]
                    if L.kind == "gru":
                        bih, bhh = _blocks(bih, H, GRU_PT_TO_KERAS), _blocks(bhh, H, GRU_PT_TO_KERAS)
                    if L.kind == "gru" and reset_after:
                        out[prefix + "/bias"] = np.stack([bih, bhh])
                    else:
                        s = bih + bhh
                        exact = s.astype(np.float64) == bih.astype(np.float64) + bhh.astype(np.float64)
                        assert exact.all(), f"{prefix}/bias: b_ih + b_hh is not exact in {s.dtype}"
                        out[prefix + "/bias"] = s
                if getattr(L, "peephole", False):
                    for gate, word in (("i", "input"), ("f", "forget"), ("o", "output")):
                        out[f"{prefix}/{word}_gate_peephole_weights"] = sd[f"{L.path}.peephole_{gate}_l0{sfx}"]
    return out


def write_keras(path, tensors, spec):
    """Writes Keras weights as spec says; returns the names as stored."""
    named = {}
    for k, v in tensors.items():
        v = np.asarray(v)
        if spec.big_endian:
            assert v.dtype == np.float32
            v = v.astype(">f4")
        named[k + (":0" if spec.suffix0 else "")] = v
    if spec.fmt == "safetensors":
        write_safetensors(path, {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in named.items()})
    elif spec.fmt == "npz":
        np.savez_compressed(path, **named)
    else:
        np.savez(path, **named)
    return list(named)


def read_keras(path, spec):
    """Reads the file back: Keras path (':0' stripped) -> float64 array; checks storage details."""
    if spec.fmt == "safetensors":
        raw = read_safetensors(path)
    else:
        with zipfile.ZipFile(path) as z:
            kinds = {i.compress_type for i in z.infolist()}
            want = zipfile.ZIP_DEFLATED if spec.fmt == "npz" else zipfile.ZIP_STORED
            assert kinds == {want}, (path, kinds)
        with np.load(path, allow_pickle=False) as npz:
            raw = {}
            for k in npz.files:
                a = npz[k]
                if spec.big_endian:
                    assert a.dtype.str == ">f4", (k, a.dtype)
                raw[k] = a.astype(np.float64)
    out = {}
    for k, v in raw.items():
        if spec.suffix0:
            assert k.endswith(":0"), k
            k = k[:-2]
        out[k] = v
    return out


def keras_forward(layers, w, x, step_mode=False):
    """Float64 forward pass from Keras weights w (path -> array), Keras equations."""
    def run_dir(L, k, d, inp):
        prefix = keras_prefixes(L)[d][1]
        K = w[prefix + "/kernel"]
        RK = w[prefix + "/recurrent_kernel"]
        b = w.get(prefix + "/bias")
        H = L.hidden
        assert RK.shape == (H, GATES[L.kind] * H) and K.shape == (inp.shape[-1], GATES[L.kind] * H)
        assert (b is not None) == L.bias
        if L.kind == "lstm":
            peep = getattr(L, "peephole", False)
            if peep:
                pi, pf, po = (w[f"{prefix}/{g}_gate_peephole_weights"] for g in ("input", "forget", "output"))

            def step(xt, st):
                h, c = st
                z = xt @ K + h @ RK + (0 if b is None else b)
                zi, zf, zc, zo = (z[:, g * H:(g + 1) * H] for g in range(4))
                if peep:
                    zi, zf = zi + pi * c, zf + pf * c
                i, f = _sigmoid(zi), _sigmoid(zf)
                c = f * c + i * np.tanh(zc)
                if peep:
                    zo = zo + po * c
                return _sigmoid(zo) * np.tanh(c), c
        elif L.kind == "gru":
            if getattr(L, "reset_after", True):
                bx, bh = (0, 0) if b is None else (b[0], b[1])
                assert b is None or b.shape == (2, 3 * H)

                def step(xt, st):
                    h = st[0]
                    xz, hz = xt @ K + bx, h @ RK + bh
                    z = _sigmoid(xz[:, :H] + hz[:, :H])
                    r = _sigmoid(xz[:, H:2 * H] + hz[:, H:2 * H])
                    hh = np.tanh(xz[:, 2 * H:] + r * hz[:, 2 * H:])
                    return z * h + (1 - z) * hh, st[1]
            else:
                assert b is None or b.shape == (3 * H,)

                def step(xt, st):
                    h = st[0]
                    xz = xt @ K + (0 if b is None else b)
                    z = _sigmoid(xz[:, :H] + h @ RK[:, :H])
                    r = _sigmoid(xz[:, H:2 * H] + h @ RK[:, H:2 * H])
                    hh = np.tanh(xz[:, 2 * H:] + (r * h) @ RK[:, 2 * H:])
                    return z * h + (1 - z) * hh, st[1]
        else:
            def step(xt, st):
                return _activate(xt @ K + st[0] @ RK + (0 if b is None else b), L.act), st[1]
        return _time_loop(inp, d, H, np.float64, step)

    def dense(L, h):
        y = h @ w[f"{L.path}/kernel"]
        assert (f"{L.path}/bias" in w) == L.bias
        if L.bias:
            y = y + w[f"{L.path}/bias"]
        return _activate(y, L.act)

    def emb(L, tokens):
        return w[f"{L.path}/embeddings"][tokens]

    return stack_forward(layers, x, run_dir, dense, emb, step_mode)


def write_keras_fixture(out_dir, fx, stored, x, y, s):
    """Keras copy of a PyTorch-built fixture (make_fixtures.py). stored: the state_dict (torch
    tensors, storage dtype); x: inputs; y, s: PyTorch's float64 outputs and step outputs.
    Returns (path, stored names, max conversion error)."""
    spec = fx.keras
    sd = {k: v.numpy() for k, v in stored.items()}
    tensors = keras_tensors(fx.layers, sd)
    path = os.path.join(out_dir, fx.name + spec.ext)
    names = write_keras(path, tensors, spec)
    back = read_keras(path, spec)
    assert set(back) == set(tensors), (fx.name, sorted(back), sorted(tensors))
    for k, v in tensors.items():
        assert np.array_equal(back[k], v.astype(np.float64)), (fx.name, k)
    xin = x.numpy() if fx.tokens else x.numpy().astype(np.float64)
    err = np.abs(keras_forward(fx.layers, back, xin) - y.numpy()).max()
    if s is not None:
        err = max(err, np.abs(keras_forward(fx.layers, back, xin, step_mode=True) - s.numpy()).max())
    assert err <= CONVERSION_TOLERANCE, f"{fx.name}: Keras-layout forward pass differs from PyTorch by {err}"
    return path, names, err


# --------------------------------------------------------------------------------------
# ONNX-oracle fixtures: specification
# --------------------------------------------------------------------------------------

class VLayer:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def VRec(cell, hidden, weights="rnn", layers=1, bi=False, seq=False, merge=None, peephole=False,
         coupled=False, reset_after=True, scale=2.0):
    assert cell in ("lstm", "gru")
    assert cell == "lstm" or not (peephole or coupled)
    assert cell == "gru" or reset_after
    return VLayer(cell, hidden=hidden, path=weights, layers=layers, bi=bi, seq=seq, merge=merge,
                  peephole=peephole, coupled=coupled, reset_after=reset_after, act="Tanh", bias=True,
                  scale=scale, name_weights=True)


def VDense(units, weights="fc", act="None", scale=1.5):
    return VLayer("dense", units=units, path=weights, act=act, bias=True, scale=scale, name_weights=True)


class VFixture:
    def __init__(self, name, T, I, layers, convention="PyTorch", note="", in_scale=1.5):
        assert convention in ("PyTorch", "Keras")
        self.name = name
        self.T = T
        self.I = I
        self.layers = layers
        self.convention = convention
        self.note = note
        self.in_scale = in_scale
        self.tokens = False
        self.bare = False
        self.dtype = "F32"
        self.keras = KerasOut("npz") if convention == "Keras" else None
        self.weight_file = name + (".npz" if convention == "Keras" else ".safetensors")
        self.bidirectional = any(L.kind in REC_KINDS and L.bi for L in layers)
        self.onnx = True
        if convention == "Keras":
            assert all(L.layers == 1 for L in layers if L.kind in REC_KINDS)


_G, _L = "gru", "lstm"
ONNX_FIXTURES = [
    # ---- GRU, reset gate before the recurrent matmul (ONNX linear_before_reset=0) --------------
    VFixture("gru_rb_uni", 7, 3, [VRec(_G, 13, reset_after=False), VDense(4, act="Sigmoid")]),
    VFixture("gru_rb_uni_seq", 6, 2, [VRec(_G, 19, reset_after=False, seq=True), VDense(3, act="Tanh")],
             note="hidden 19"),
    VFixture("gru_rb_bi", 8, 3, [VRec(_G, 9, reset_after=False, bi=True), VDense(2, act="Softmax")]),
    VFixture("gru_rb_bi_seq", 6, 4, [VRec(_G, 5, reset_after=False, bi=True, seq=True, merge="Sum"), VDense(2)]),
    VFixture("gru_rb_2l", 7, 2, [VRec(_G, 6, reset_after=False, layers=2), VDense(1)]),
    VFixture("gru_rb_bi_2l_seq", 5, 3, [VRec(_G, 4, reset_after=False, layers=2, bi=True, seq=True),
                                        VDense(2, act="Tanh")]),
    VFixture("gru_rb_h1_seq", 8, 3, [VRec(_G, 1, reset_after=False, seq=True), VDense(1)], note="hidden 1"),
    # ---- LSTM with peepholes (ONNX P: i, o, f) ---------------------------------------------------
    VFixture("lstm_peep_uni", 7, 3, [VRec(_L, 13, peephole=True), VDense(4, act="Sigmoid")]),
    VFixture("lstm_peep_uni_seq", 10, 2, [VRec(_L, 19, peephole=True, seq=True), VDense(2)], note="hidden 19"),
    VFixture("lstm_peep_bi", 8, 3, [VRec(_L, 7, peephole=True, bi=True), VDense(3, act="Softmax")]),
    VFixture("lstm_peep_bi_seq", 6, 2, [VRec(_L, 5, peephole=True, bi=True, seq=True, merge="Average"),
                                        VDense(2)]),
    VFixture("lstm_peep_2l_seq", 6, 3, [VRec(_L, 6, peephole=True, layers=2, seq=True), VDense(2, act="Tanh")]),
    VFixture("lstm_peep_h1", 8, 2, [VRec(_L, 1, peephole=True), VDense(1, act="Sigmoid")], note="hidden 1"),
    # ---- LSTM with coupled input and forget gates (ONNX input_forget=1: f = 1 - i) ---------------
    VFixture("lstm_cifg_uni", 7, 3, [VRec(_L, 11, coupled=True), VDense(3)]),
    VFixture("lstm_cifg_uni_seq", 6, 2, [VRec(_L, 19, coupled=True, seq=True), VDense(2, act="Tanh")],
             note="hidden 19"),
    VFixture("lstm_cifg_bi", 7, 4, [VRec(_L, 6, coupled=True, bi=True), VDense(2, act="Sigmoid")]),
    VFixture("lstm_cifg_bi_seq", 5, 2, [VRec(_L, 4, coupled=True, bi=True, seq=True), VDense(3, act="Softmax")]),
    VFixture("lstm_cifg_2l", 6, 3, [VRec(_L, 7, coupled=True, layers=2), VDense(2)]),
    VFixture("lstm_cifg_h1_seq", 7, 2, [VRec(_L, 1, coupled=True, seq=True), VDense(1)], note="hidden 1"),
    # ---- both LSTM variants ---------------------------------------------------------------------
    VFixture("lstm_peep_cifg_uni", 8, 3, [VRec(_L, 9, peephole=True, coupled=True), VDense(3, act="Softmax")]),
    VFixture("lstm_peep_cifg_uni_seq", 6, 2, [VRec(_L, 19, peephole=True, coupled=True, seq=True), VDense(2)],
             note="hidden 19"),
    VFixture("lstm_peep_cifg_bi", 6, 2, [VRec(_L, 6, peephole=True, coupled=True, bi=True, merge="Multiply"),
                                         VDense(2, act="Tanh")]),
    VFixture("lstm_peep_cifg_bi_2l_seq", 5, 3, [VRec(_L, 4, peephole=True, coupled=True, layers=2, bi=True,
                                                     seq=True), VDense(2)]),
    VFixture("lstm_peep_cifg_2l", 7, 2, [VRec(_L, 5, peephole=True, coupled=True, layers=2),
                                         VDense(2)]),
    # ---- Keras convention (.npz) -------------------------------------------------------------------
    VFixture("keras_gru_rb", 7, 3, [VRec(_G, 8, weights="gru", reset_after=False),
                                    VDense(3, weights="dense", act="Softmax")], convention="Keras",
             note="Keras GRU reset_after=False: bias [3H]"),
    VFixture("keras_gru_rb_stack_seq", 6, 2, [VRec(_G, 6, weights="gru", reset_after=False, seq=True),
                                              VRec(_G, 5, weights="gru_1", reset_after=False, seq=True),
                                              VDense(2, weights="dense")], convention="Keras",
             note="two stacked Keras GRU layers (reset_after=False)"),
    VFixture("keras_gru_rb_bi", 6, 3, [VRec(_G, 5, weights="bidirectional", reset_after=False, bi=True),
                                       VDense(2, weights="dense")], convention="Keras"),
    VFixture("keras_lstm_peep", 7, 3, [VRec(_L, 9, weights="lstm", peephole=True),
                                       VDense(2, weights="dense", act="Tanh")], convention="Keras",
             note="Keras PeepholeLSTMCell weights"),
    VFixture("keras_lstm_peep_stack_seq", 6, 2, [VRec(_L, 7, weights="lstm", peephole=True, seq=True),
                                                 VRec(_L, 4, weights="lstm_1", peephole=True, seq=True),
                                                 VDense(2, weights="dense")], convention="Keras",
             note="two stacked Keras peephole LSTM layers"),
]


# --------------------------------------------------------------------------------------
# ONNX-oracle fixtures: weights and the canonical (PyTorch-layout) forward pass
# --------------------------------------------------------------------------------------

def _canon_names(L, k, sfx):
    p = f"{L.path}."
    names = [p + f"weight_ih_l{k}{sfx}", p + f"weight_hh_l{k}{sfx}", p + f"bias_ih_l{k}{sfx}", p + f"bias_hh_l{k}{sfx}"]
    if L.kind == "lstm" and L.peephole:
        names += [p + f"peephole_{g}_l{k}{sfx}" for g in ("i", "f", "o")]
    return names


def draw_weights(fx, seed, factor):
    """Canonical (PyTorch-layout) float32 weights, in a fixed drawing order."""
    g = torch.Generator().manual_seed(seed)

    def uniform(shape, bound):
        return ((torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) * bound).float().numpy()

    sd = {}
    feat = fx.I
    for L in fx.layers:
        if L.kind in REC_KINDS:
            H, G = L.hidden, GATES[L.kind]
            D = 2 if L.bi else 1
            bound = L.scale * factor / np.sqrt(H)
            for k in range(L.layers):
                fin = feat if k == 0 else D * H
                for d in range(D):
                    sfx = "_reverse" if d else ""
                    n = _canon_names(L, k, sfx)
                    sd[n[0]] = uniform((G * H, fin), bound)
                    sd[n[1]] = uniform((G * H, H), bound)
                    sd[n[2]] = quantize(uniform((G * H,), bound))
                    sd[n[3]] = quantize(uniform((G * H,), bound))
                    if L.kind == "lstm" and L.peephole:
                        for j in range(3):
                            sd[n[4 + j]] = uniform((H,), 3.0 * factor)
            feat = 2 * H if (L.bi and (L.merge or "Concat") == "Concat") else H
        elif L.kind == "dense":
            bound = L.scale * factor / np.sqrt(feat)
            sd[f"{L.path}.weight"] = uniform((L.units, feat), bound)
            sd[f"{L.path}.bias"] = quantize(uniform((L.units,), bound))
            feat = L.units
    return sd


def canon_forward(fx, sd, x, dtype, step_mode=False):
    """The reference: the variant equations over the PyTorch-layout weights, in `dtype`."""
    w = {k: v.astype(dtype) for k, v in sd.items()}

    def run_dir(L, k, d, inp):
        H = L.hidden
        n = _canon_names(L, k, "_reverse" if d else "")
        wih, whh, bih, bhh = (w[m] for m in n[:4])
        if L.kind == "lstm":
            peep = L.peephole
            if peep:
                pi, pf, po = (w[m] * keep for m, keep in zip(n[4:], getattr(L, "_peep_mask", (1, 1, 1))))
            o_old_c = getattr(L, "_o_reads_old_c", False)    # wrong on purpose (sensitivity only)

            def step(xt, st):
                h, c = st
                gts = xt @ wih.T + bih + h @ whh.T + bhh
                gi, gf, gg, go = (gts[:, j * H:(j + 1) * H] for j in range(4))
                i = _sigmoid(gi + pi * c) if peep else _sigmoid(gi)
                if L.coupled:
                    f = 1 - i          # the forget blocks (and forget peephole) are ignored
                else:
                    f = _sigmoid(gf + pf * c) if peep else _sigmoid(gf)
                c_new = f * c + i * np.tanh(gg)
                o = _sigmoid(go + po * (c if o_old_c else c_new)) if peep else _sigmoid(go)
                return o * np.tanh(c_new), c_new
        else:
            def step(xt, st):
                h = st[0]
                gx = xt @ wih.T + bih
                r = _sigmoid(gx[:, :H] + h @ whh[:H].T + bhh[:H])
                z = _sigmoid(gx[:, H:2 * H] + h @ whh[H:2 * H].T + bhh[H:2 * H])
                if L.reset_after:
                    n_ = np.tanh(gx[:, 2 * H:] + r * (h @ whh[2 * H:].T + bhh[2 * H:]))
                else:
                    n_ = np.tanh(gx[:, 2 * H:] + (r * h) @ whh[2 * H:].T + bhh[2 * H:])
                return (1 - z) * n_ + z * h, st[1]
        return _time_loop(inp, d, H, dtype, step)

    def dense(L, h):
        return _activate(h @ w[f"{L.path}.weight"].T + w[f"{L.path}.bias"], L.act)

    return stack_forward(fx.layers, x.astype(dtype), run_dir, dense, step_mode=step_mode)


def _sanity_check_canon():
    """canon_forward without the variants must agree with nn.LSTM / nn.GRU."""
    torch.manual_seed(4321)
    for cell, mod in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        m = mod(3, 4, num_layers=2, bidirectional=True, batch_first=True).double()
        fx = VFixture("sanity", 5, 3, [VRec(cell, 4, layers=2, bi=True, seq=True)])
        sd = {"rnn." + k: v.detach().numpy() for k, v in m.state_dict().items()}
        x = torch.randn(2, 5, 3, dtype=torch.float64)
        ref = m(x)[0].detach().numpy().reshape(2, -1)
        mine = canon_forward(fx, sd, x.numpy(), np.float64)
        assert np.abs(ref - mine).max() < 1e-13, f"canon_forward({cell}) disagrees with PyTorch"


# --------------------------------------------------------------------------------------
# ONNX graph
# --------------------------------------------------------------------------------------

def onnx_weights(L, sd, k):
    """W, R, B (and P) of layer k of attribute L in ONNX layout, from the canonical weights."""
    H = L.hidden
    perm = LSTM_PT_TO_ONNX if L.kind == "lstm" else GRU_PT_TO_ONNX
    Ws, Rs, Bs, Ps = [], [], [], []
    for d in range(2 if L.bi else 1):
        n = _canon_names(L, k, "_reverse" if d else "")
        Ws.append(_blocks(sd[n[0]], H, perm))
        Rs.append(_blocks(sd[n[1]], H, perm))
        Bs.append(np.concatenate([_blocks(sd[n[2]], H, perm), _blocks(sd[n[3]], H, perm)]))
        if L.kind == "lstm" and L.peephole:
            pi, pf, po = (sd[m] for m in n[4:])
            Ps.append(np.concatenate([pi, po, pf]))
    out = [np.stack(Ws), np.stack(Rs), np.stack(Bs)]
    if Ps:
        out.append(np.stack(Ps))
    return [np.ascontiguousarray(a, dtype=np.float32) for a in out]


def build_onnx(fx, sd):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = [0]

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, **attrs):
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    idx0 = init("index_0", np.array(0, dtype=np.int64))
    idx1 = init("index_1", np.array(1, dtype=np.int64))
    flat_last = init("shape_keep2_flatten", np.array([0, 0, -1], dtype=np.int64))
    flat_batch = init("shape_keep1_flatten", np.array([0, -1], dtype=np.int64))
    half = init("half", np.array(0.5, dtype=np.float32))

    cur = node("Transpose", ["x"], perm=[1, 0, 2])       # [batch, T, I] -> [T, batch, I]
    seq = True
    for ai, L in enumerate(fx.layers):
        if L.kind in REC_KINDS:
            for k in range(L.layers):
                arrs = onnx_weights(L, sd, k)
                tag = f"{L.path}_{ai}_l{k}"
                names = [init(f"{tag}_{n}", a) for n, a in zip("WRBP", arrs)]
                attrs = dict(hidden_size=L.hidden, direction="bidirectional" if L.bi else "forward")
                if L.kind == "lstm":
                    op = "LSTM"
                    inputs = [cur] + names[:3]
                    if L.peephole:
                        inputs += ["", "", "", names[3]]   # sequence_lens, initial_h, initial_c, P
                    if L.coupled:
                        attrs["input_forget"] = 1
                else:
                    op = "GRU"
                    inputs = [cur] + names[:3]
                    attrs["linear_before_reset"] = 1 if L.reset_after else 0
                y, y_h = f"{tag}_Y", f"{tag}_Y_h"
                nodes.append(helper.make_node(op, inputs, [y, y_h], name=tag, **attrs))
                if k < L.layers - 1:            # [T, D, batch, H] -> [T, batch, D*H]
                    cur = node("Reshape", [node("Transpose", [y], perm=[0, 2, 1, 3]), flat_last])
            if L.seq:                            # per step: Y [T, D, batch, H]
                f = node("Gather", [y, idx0], axis=1)
                b = node("Gather", [y, idx1], axis=1) if L.bi else None
            else:                                # final states: Y_h [D, batch, H]
                f = node("Gather", [y_h, idx0], axis=0)
                b = node("Gather", [y_h, idx1], axis=0) if L.bi else None
            if b is None:
                cur = f
            else:
                mode = L.merge or "Concat"
                if mode == "Concat":
                    cur = node("Concat", [f, b], axis=-1)
                elif mode == "Sum":
                    cur = node("Add", [f, b])
                elif mode == "Multiply":
                    cur = node("Mul", [f, b])
                else:
                    cur = node("Mul", [node("Add", [f, b]), half])
            seq = L.seq
        elif L.kind == "dense":
            kern = init(f"{L.path}_{ai}_kernel", np.ascontiguousarray(sd[f"{L.path}.weight"].T))
            bias = init(f"{L.path}_{ai}_bias", sd[f"{L.path}.bias"])
            cur = node("Add", [node("MatMul", [cur, kern]), bias])
            if L.act != "None":
                cur = node(L.act, [cur])
    if seq:   # [T, batch, units] -> [batch, T * units]
        cur = node("Reshape", [node("Transpose", [cur], perm=[1, 0, 2]), flat_batch])
    nodes.append(helper.make_node("Identity", [cur], ["y"], name="output"))

    out_size, _, _ = out_info(fx)
    graph = helper.make_graph(
        nodes, fx.name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "steps", fx.I])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                       ["batch", "steps_times_units" if seq else out_size])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)],
                              producer_name="StaticRnn tools/make_variant_fixtures.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def onnx_forward(fx, model, x, step_mode=False):
    """Float64 forward pass from the ONNX file's initializers with ONNX's equations (gate orders
    LSTM i,o,f,c and GRU z,r,h; B = [Wb | Rb]; P = i,o,f). Checks the weight conversion, not the
    graph's plumbing (ONNX Runtime checks that, in the C# tests)."""
    from onnx import numpy_helper
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    rnn_nodes = {n.name: n for n in model.graph.node if n.op_type in ("LSTM", "GRU")}
    sig = _sigmoid

    def run_dir(L, k, d, inp):
        tag = f"{L.path}_{fx.layers.index(L)}_l{k}"
        nd = rnn_nodes[tag]
        attrs = {a.name: a for a in nd.attribute}
        H = attrs["hidden_size"].i
        assert H == L.hidden
        W, R, B = (inits[nd.input[j]][d] for j in (1, 2, 3))
        if nd.op_type == "LSTM":
            P = inits[nd.input[7]][d] if len(nd.input) > 7 and nd.input[7] else None
            coupled = "input_forget" in attrs and attrs["input_forget"].i == 1
            Wb, Rb = B[:4 * H], B[4 * H:]

            def step(xt, st):
                h, c = st
                g = xt @ W.T + h @ R.T + Wb + Rb
                gi, go, gf, gc = (g[:, j * H:(j + 1) * H] for j in range(4))
                if P is not None:
                    gi, gf = gi + P[:H] * c, gf + P[2 * H:] * c
                i = sig(gi)
                f = 1 - i if coupled else sig(gf)
                c = f * c + i * np.tanh(gc)
                if P is not None:
                    go = go + P[H:2 * H] * c
                return sig(go) * np.tanh(c), c
        else:
            lbr = attrs["linear_before_reset"].i
            Wb, Rb = B[:3 * H], B[3 * H:]

            def step(xt, st):
                h = st[0]
                gx = xt @ W.T + Wb
                z = sig(gx[:, :H] + h @ R[:H].T + Rb[:H])
                r = sig(gx[:, H:2 * H] + h @ R[H:2 * H].T + Rb[H:2 * H])
                if lbr:
                    hh = np.tanh(gx[:, 2 * H:] + r * (h @ R[2 * H:].T + Rb[2 * H:]))
                else:
                    hh = np.tanh(gx[:, 2 * H:] + (r * h) @ R[2 * H:].T + Rb[2 * H:])
                return (1 - z) * hh + z * h, st[1]
        return _time_loop(inp, d, H, np.float64, step)

    def dense(L, h):
        i = fx.layers.index(L)
        return _activate(h @ inits[f"{L.path}_{i}_kernel"] + inits[f"{L.path}_{i}_bias"], L.act)

    return stack_forward(fx.layers, x.astype(np.float64), run_dir, dense, step_mode=step_mode)


# --------------------------------------------------------------------------------------
# ONNX-oracle fixtures: building and writing
# --------------------------------------------------------------------------------------

MIN_SENSITIVITY = 5e-3     # max |y - y without a variant feature| required: 500x the tests' tolerance


def sensitivity(fx, sd, x, y64):
    """max |output change| when each variant feature of the fixture is switched off (same weights):
    a generator that ignored Peephole, CoupledInputForget or ResetAfter = false would be caught."""
    import copy
    out = {}
    for i, L in enumerate(fx.layers):
        if L.kind not in REC_KINDS:
            continue
        toggles = []   # (label, attribute, value)
        if L.kind == "lstm" and L.peephole:
            toggles.append(("peephole", "peephole", False))
            toggles.append(("o peephole reads c_t-1", "_o_reads_old_c", True))
            for gate in ("io" if L.coupled else "ifo"):
                mask = [1, 1, 1]
                mask["ifo".index(gate)] = 0
                toggles.append((f"peephole_{gate} = 0", "_peep_mask", tuple(mask)))
        if L.kind == "lstm" and L.coupled:
            toggles.append(("coupled", "coupled", False))
        if L.kind == "gru" and not L.reset_after:
            toggles.append(("reset_after", "reset_after", True))
        for label, attr, value in toggles:
            g = copy.copy(fx)
            g.layers = list(fx.layers)
            M = copy.copy(L)
            setattr(M, attr, value)
            g.layers[i] = M
            out[f"{L.path}: {label}"] = np.abs(canon_forward(g, sd, x, np.float64) - y64).max()
    return out


def out_info(fx):
    """(OutputSize, StepOutputSize, units per step)."""
    seq = True
    units = fx.I
    for L in fx.layers:
        if L.kind in REC_KINDS:
            seq = L.seq
            units = 2 * L.hidden if (L.bi and (L.merge or "Concat") == "Concat") else L.hidden
        elif L.kind == "dense":
            units = L.units
    return (fx.T * units if seq else units), (0 if fx.bidirectional else units), units


def build_onnx_fixture(fx, seed, x32, out_dir, n_sequences):
    """Draws, checks and writes one ONNX-oracle fixture (weights file, .onnx). x32: (N, T, I) float32
    torch tensor. Returns the result dict make_fixtures.py writes the json and C# from."""
    out_size, step_size, units = out_info(fx)
    x = x32.numpy()
    factor = 1.0
    for attempt in range(10):
        sd = draw_weights(fx, seed, factor)
        y64 = canon_forward(fx, sd, x, np.float64)
        y32 = canon_forward(fx, sd, x, np.float32)
        err = np.abs(y32.astype(np.float64) - y64).max()
        s64 = None
        if not fx.bidirectional:
            s64 = canon_forward(fx, sd, x, np.float64, step_mode=True)
            s32 = canon_forward(fx, sd, x, np.float32, step_mode=True)
            err = max(err, np.abs(s32.astype(np.float64) - s64).max())
        mag = np.abs(y64).max()
        if err <= F32_TOLERANCE and mag <= MAX_ABS_OUTPUT:
            break
        factor *= 0.85
    else:
        raise RuntimeError(f"{fx.name}: could not meet f32 tolerance / magnitude (err {err}, |y| {mag})")
    assert y64.shape == (n_sequences, out_size)
    if s64 is not None:
        assert s64.shape == (n_sequences, fx.T * step_size)
        last_rec = [L for L in fx.layers if L.kind in REC_KINDS][-1]
        if last_rec.seq:
            assert np.array_equal(s64, y64)
        else:
            assert np.abs(s64[:, -step_size:] - y64).max() <= 1e-12

    # every variant feature matters: the same weights without it give clearly different outputs
    sens = sensitivity(fx, sd, x, y64)
    assert min(sens.values()) > MIN_SENSITIVITY, f"{fx.name}: outputs barely depend on {sens}"

    # the weights file, in the declared convention, read back and run with that convention's equations
    wpath = os.path.join(out_dir, fx.weight_file)
    if fx.convention == "Keras":
        tensors = keras_tensors(fx.layers, sd)
        names = write_keras(wpath, tensors, fx.keras)
        back = read_keras(wpath, fx.keras)
        assert set(back) == set(tensors)
        conv_err = np.abs(keras_forward(fx.layers, back, x.astype(np.float64)) - y64).max()
        if s64 is not None:
            conv_err = max(conv_err, np.abs(keras_forward(fx.layers, back, x.astype(np.float64), True) - s64).max())
    else:
        write_safetensors(wpath, {k: torch.from_numpy(v) for k, v in sd.items()})
        back = read_safetensors(wpath)
        assert set(back) == set(sd)
        for k, v in sd.items():
            assert np.array_equal(back[k], v.astype(np.float64)), (fx.name, k)
        names = sorted(back)
        conv_err = np.abs(canon_forward(fx, back, x, np.float64) - y64).max()
    assert conv_err <= CONVERSION_TOLERANCE, f"{fx.name}: weight file forward differs by {conv_err}"

    # the ONNX graph, written, read back, checked and run with ONNX's equations
    import onnx
    model = build_onnx(fx, sd)
    opath = os.path.join(out_dir, fx.name + ".onnx")
    onnx.save_model(model, opath)
    back_model = onnx.load_model(opath)
    onnx.checker.check_model(back_model, full_check=True)
    onnx_err = np.abs(onnx_forward(fx, back_model, x) - y64).max()
    if s64 is not None:
        onnx_err = max(onnx_err, np.abs(onnx_forward(fx, back_model, x, True) - s64).max())
    assert onnx_err <= CONVERSION_TOLERANCE, f"{fx.name}: ONNX initializers' forward differs by {onnx_err}"

    return dict(fx=fx, x=x32, y=torch.from_numpy(y64), s=None if s64 is None else torch.from_numpy(s64),
                err=err, mag=mag, factor=factor, out_size=out_size, step_size=step_size,
                attempts=attempt + 1, conv_err=max(conv_err, onnx_err), names=names, sensitivity=sens,
                files=[wpath, opath])


if __name__ == "__main__":
    import runpy
    runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_fixtures.py"), run_name="__main__")
