#!/usr/bin/python3
"""Models for the StaticRnn benchmarks (benchmarks/StaticRnn.Benchmarks).

For every model in MODELS below this script

  * builds the network out of real torch modules registered under the names the C# declaration
    names (``embedding``, ``rnn``, ``fc``), so the tensors are the ``state_dict()`` names;
  * keeps PyTorch's default initialisation under a fixed seed (the benchmarks time the models,
    they do not need trained weights);
  * writes the weights to ``<name>.safetensors`` (F32, written by tools/safetensors_io.py);
  * exports the SAME module to ``<name>.onnx`` with ``torch.onnx.export`` (opset 14, input
    ``input``: float32 [batch, T, in], or int64 tokens [batch, T] for the embedding models;
    output ``output``: float32 [batch, out]; axis 0 of both is the dynamic axis ``batch``), so
    ONNX Runtime runs exactly the weights StaticRnn compiles;
  * checks the ONNX graph with ``onnx.checker.check_model``, its input/output names, types and
    dynamic batch axis, and that its initializers are exactly the safetensors weights (embedding and
    head bit-identical by name; each recurrent weight, and each layer's two biases together, the same
    values as one initializer, which the exporter stores gate-reordered);
  * checks the module's float32 output against an independent float64 recomputation written out
    here with explicit NumPy ops (LSTM gates i, f, g, o; GRU r, z, n with reset-after; tanh RNN),
    max |diff| <= 1e-5.

The models compute StaticRnn's semantics: many-to-one is the top layer's hidden state after the
last step, ``rnn(x)[0][:, -1, :]``, then the ``Linear`` head (and a sigmoid where stated).

ONNX Runtime is not installed for Python here (this script checks that and says so), so the
numerical cross-check of ONNX Runtime against StaticRnn happens in C#: every benchmark's
GlobalSetup runs both on the same input and throws if they differ by more than 1e-4.

char_lstm is exported with T = 1 and no state inputs: one call of the whole model on one token
from the zero state, which is what ONNX Runtime pays per step of a character model; the C# side
times StaticRnn's ``Step`` against it. tiny_lstm (LSTM 1 -> 1, T = 1, no head) is the per-call
floor of both.

Deterministic: fixed seeds, one torch thread; re-running rewrites byte-identical files.

Usage (from the repository root; needs torch, onnx, numpy; no safetensors package):
    /usr/bin/python3 tools/make_benchmark_models.py [--out benchmarks/StaticRnn.Benchmarks/Models]
"""

import argparse
import hashlib
import os
import sys
import warnings
from collections import namedtuple

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

OPSET = 14
CHECK_TOLERANCE = 1e-5

# name, cell, input size (None: token model), vocabulary, embedding size, hidden, layers, T,
# head units (None: no head), head activation
Spec = namedtuple("Spec", "name cell input_size vocab embed hidden layers T units act")

MODELS = [
    Spec("sine_rnn", "rnn", 1, None, None, 8, 1, 100, 100, None),
    Spec("sine_lstm", "lstm", 1, None, None, 8, 1, 100, 100, None),
    Spec("sine_gru", "gru", 1, None, None, 8, 1, 100, 100, None),
    Spec("lstm_16_64", "lstm", 16, None, None, 64, 1, 100, 1, None),
    Spec("gru_16_64", "gru", 16, None, None, 64, 1, 100, 1, None),
    Spec("lstm_64_128", "lstm", 64, None, None, 128, 1, 100, 1, None),
    Spec("gru_64_128", "gru", 64, None, None, 128, 1, 100, 1, None),
    Spec("sentiment", "lstm", None, 10000, 256, 128, 1, 200, 1, "sigmoid"),
    Spec("char_lstm", "lstm", None, 65, 32, 128, 2, 1, 65, None),
    Spec("tiny_lstm", "lstm", 1, None, None, 1, 1, 1, None, None),
]


class Net(nn.Module):
    """[Embedding] -> LSTM/GRU/RNN (batch_first, many-to-one) -> [Linear [+ sigmoid]]."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        if spec.vocab is not None:
            self.embedding = nn.Embedding(spec.vocab, spec.embed)
            rnn_in = spec.embed
        else:
            self.embedding = None
            rnn_in = spec.input_size
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[spec.cell]
        self.rnn = cls(rnn_in, spec.hidden, num_layers=spec.layers, batch_first=True)
        self.fc = nn.Linear(spec.hidden, spec.units) if spec.units is not None else None

    def forward(self, x):
        if self.embedding is not None:
            x = self.embedding(x)
        out, _ = self.rnn(x)
        y = out[:, -1, :]
        if self.fc is not None:
            y = self.fc(y)
        if self.spec.act == "sigmoid":
            y = torch.sigmoid(y)
        return y


# --------------------------------------------------------------------------------------
# Independent float64 recomputation (NumPy)
# --------------------------------------------------------------------------------------

def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def reference_forward(spec, w, x):
    """w: state_dict as float64 arrays; x: float inputs [B, T, in] or int tokens [B, T]."""
    if spec.vocab is not None:
        seq = w["embedding.weight"][x]                      # [B, T, E]
    else:
        seq = x.astype(np.float64)
    batch = seq.shape[0]
    H = spec.hidden
    for layer in range(spec.layers):
        wih, whh = w[f"rnn.weight_ih_l{layer}"], w[f"rnn.weight_hh_l{layer}"]
        bih, bhh = w[f"rnn.bias_ih_l{layer}"], w[f"rnn.bias_hh_l{layer}"]
        h = np.zeros((batch, H))
        c = np.zeros((batch, H))
        outs = []
        for t in range(spec.T):
            xt = seq[:, t, :]
            gi = xt @ wih.T + bih
            gh = h @ whh.T + bhh
            if spec.cell == "lstm":
                g = gi + gh
                i, f, gg, o = (g[:, k * H:(k + 1) * H] for k in range(4))
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(gg)
                h = _sigmoid(o) * np.tanh(c)
            elif spec.cell == "gru":
                r = _sigmoid(gi[:, :H] + gh[:, :H])
                z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1.0 - z) * n + z * h
            else:
                h = np.tanh(gi + gh)
            outs.append(h)
        seq = np.stack(outs, axis=1)
    y = seq[:, -1, :]
    if spec.units is not None:
        y = y @ w["fc.weight"].T + w["fc.bias"]
    if spec.act == "sigmoid":
        y = _sigmoid(y)
    return y


def sample_input(spec, batch, gen):
    if spec.vocab is not None:
        return torch.randint(0, spec.vocab, (batch, spec.T), generator=gen, dtype=torch.int64)
    return torch.rand((batch, spec.T, spec.input_size), generator=gen) * 2.0 - 1.0


# --------------------------------------------------------------------------------------
# ONNX checks
# --------------------------------------------------------------------------------------

def strip_zero_initial_states(model):
    """Drops the zero initial states the exporter builds for every LSTM/GRU/RNN node.

    Without h0/c0 arguments torch.onnx.export computes zeros of shape [layers, batch, H] at run
    time (Shape -> Gather -> Concat -> ConstantOfShape, sliced per layer; or a zero Constant Expanded) and feeds them as initial_h / initial_c.
    ONNX defines a missing initial_h / initial_c as zeros, so the inputs are removed and the
    subgraph that made them pruned: the same computation, with fewer operators per call
    for ONNX Runtime. Returns the number of state inputs removed."""
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    inits = {t.name: t for t in graph.initializer}

    def is_zero(name):
        if name in inits:
            return not np.any(numpy_helper.to_array(inits[name]))
        node = producers.get(name)
        if node is not None and node.op_type in ("Slice", "Squeeze", "Unsqueeze", "Reshape", "Identity", "Expand"):
            return is_zero(node.input[0])  # a piece of zeros (multi-layer stacks slice one [L, B, H] zeros)
        if node is not None and node.op_type == "Constant":  # zeros broadcast by Expand (a GRU exported alone)
            return all(a.name == "value" and not np.any(numpy_helper.to_array(a.t)) for a in node.attribute)
        if node is None or node.op_type != "ConstantOfShape":
            return False
        for attr in node.attribute:
            if attr.name == "value":
                return not np.any(numpy_helper.to_array(attr.t))
        return True  # ConstantOfShape without a value attribute fills with 0.0f

    removed = 0
    for node in graph.node:
        if node.op_type not in ("LSTM", "GRU", "RNN"):
            continue
        slots = (5, 6) if node.op_type == "LSTM" else (5,)
        for k in slots:
            if len(node.input) > k and node.input[k] and is_zero(node.input[k]):
                node.input[k] = ""
                removed += 1
        while node.input and node.input[-1] == "":
            node.input.pop()

    # Dead-node elimination from the graph outputs, then unused initializers.
    live = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in live for o in node.output):
            keep.append(node)
            live.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = [t for t in graph.initializer if t.name in live]
    del graph.initializer[:]
    graph.initializer.extend(used)
    return removed


def check_onnx(path, spec, state):
    model = onnx.load(path)
    onnx.checker.check_model(model)
    graph = model.graph
    assert [i.name for i in graph.input] == ["input"], [i.name for i in graph.input]
    assert [o.name for o in graph.output] == ["output"], [o.name for o in graph.output]
    in_type = graph.input[0].type.tensor_type
    want = onnx.TensorProto.INT64 if spec.vocab is not None else onnx.TensorProto.FLOAT
    assert in_type.elem_type == want, in_type.elem_type
    assert in_type.shape.dim[0].dim_param == "batch", in_type.shape.dim[0]
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    ops = sorted({n.op_type for n in graph.node})
    # Every weight of the state_dict is in the graph. Tensors the exporter keeps as they are (embedding,
    # fc) must be bit-identical initializers of the same name; the recurrent tensors are reordered (ONNX
    # gate order LSTM i, o, f, c and GRU z, r, h; the two biases concatenated into B), so their sorted
    # values must equal the sorted values of one initializer: the same numbers, permuted.
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    sorted_inits = [np.sort(a.astype(np.float64).ravel()) for a in inits.values()]

    def permuted_in_graph(values):
        v = np.sort(values.astype(np.float64).ravel())
        return any(a.shape == v.shape and np.array_equal(a, v) for a in sorted_inits)

    for name, t in state.items():
        if name.startswith("rnn."):
            continue
        assert name in inits and np.array_equal(inits[name], t.numpy()), f"{path}: {name} is not an initializer"
    for layer in range(spec.layers):
        for kind in ("ih", "hh"):
            w = state[f"rnn.weight_{kind}_l{layer}"].numpy()
            assert permuted_in_graph(w), f"{path}: rnn.weight_{kind}_l{layer} not found among the initializers"
        b = np.concatenate([state[f"rnn.bias_ih_l{layer}"].numpy(), state[f"rnn.bias_hh_l{layer}"].numpy()])
        assert permuted_in_graph(b), f"{path}: rnn.bias_*_l{layer} not found among the initializers"
    assert sum(a.size for a in inits.values()) == sum(t.numel() for t in state.values()), \
        f"{path}: the graph has initializers the module does not"
    return ops


# --------------------------------------------------------------------------------------

def flops_per_sequence(spec):
    """2 * G * H * (in + H) per recurrent layer and step, 2 * in * out for the head."""
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[spec.cell]
    rnn_in = spec.embed if spec.vocab is not None else spec.input_size
    total = 0
    for layer in range(spec.layers):
        i = rnn_in if layer == 0 else spec.hidden
        total += 2 * gates * spec.hidden * (i + spec.hidden) * spec.T
    if spec.units is not None:
        total += 2 * spec.hidden * spec.units
    return total


def make(spec, out_dir, seed):
    torch.manual_seed(seed)
    net = Net(spec).eval()
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}

    st_path = os.path.join(out_dir, spec.name + ".safetensors")
    write_safetensors(st_path, state)
    back = read_safetensors(st_path)
    assert sorted(back) == sorted(state)
    for k in state:
        assert np.array_equal(back[k], state[k].numpy().astype(np.float64)), k

    # Check the module against the float64 recomputation.
    gen = torch.Generator().manual_seed(seed + 1)
    x = sample_input(spec, 3, gen)
    with torch.no_grad():
        y = net(x).numpy().astype(np.float64)
    ref = reference_forward(spec, back, x.numpy())
    err = float(np.max(np.abs(y - ref)))
    assert y.shape == ref.shape, (y.shape, ref.shape)
    assert err <= CHECK_TOLERANCE, f"{spec.name}: module vs recomputation {err:.3g}"

    # Export the same module.
    onnx_path = os.path.join(out_dir, spec.name + ".onnx")
    dummy = sample_input(spec, 2, torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), onnx_path, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True, export_params=True)
    model = onnx.load(onnx_path)
    removed = strip_zero_initial_states(model)
    assert removed == spec.layers * (2 if spec.cell == "lstm" else 1), (spec.name, removed)
    onnx.save(model, onnx_path)
    ops = check_onnx(onnx_path, spec, state)

    params = sum(t.numel() for t in state.values())
    return err, params, ops, st_path, onnx_path


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(root, "benchmarks", "StaticRnn.Benchmarks", "Models"))
    parser.add_argument("--only", nargs="*", help="model names (default: all)")
    args = parser.parse_args()

    try:
        import onnxruntime  # noqa: F401
        print("note: onnxruntime is importable in Python, but this script does not use it; "
              "the C# benchmarks cross-check ONNX Runtime against StaticRnn")
    except ImportError:
        print("onnxruntime is not available in Python: the ONNX files are checked with onnx.checker and "
              "against the weights here; the C# benchmarks' GlobalSetup cross-checks ONNX Runtime vs StaticRnn")

    # The exporter's shape-inference and batch-size warnings do not apply to these graphs (the
    # zero initial states they concern are removed, see strip_zero_initial_states).
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    print(f"{'model':12} {'params':>9} {'MFLOP/seq':>9} {'max|err|':>9}  files (sha256[:12])  onnx ops")
    for n, spec in enumerate(MODELS):
        if args.only and spec.name not in args.only:
            continue
        err, params, ops, st, ox = make(spec, args.out, seed=1000 + 17 * n)
        print(f"{spec.name:12} {params:9d} {flops_per_sequence(spec) / 1e6:9.3f} {err:9.2e}  "
              f"{digest(st)} {digest(ox)}  {','.join(ops)}")


if __name__ == "__main__":
    main()
