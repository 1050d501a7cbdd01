#!/usr/bin/python3
"""ONNX twins of the Translator sample's date model, for the encoder-decoder benchmark (issue 16).

Loads samples/Translator/models/dates.safetensors into the tutorial's modules (EncoderRNN + AttnDecoderRNN, hidden
64, imported from tools/make_seq2seq_fixtures.py) and exports, with torch.onnx.export (opset 14), two graphs into
benchmarks/StaticRnn.Benchmarks/Models:

  dates_encoder.onnx        source [1, 30] int64 -> outputs [1, 30, 64], hidden [1, 1, 64]     (EncoderRNN.forward)
  dates_decoder_step.onnx   token [1, 1] int64, hidden [1, 1, 64], encoder_outputs [1, 30, 64]
                            -> logits [1, 1, 13], new_hidden [1, 1, 64], attention [1, 1, 30]
                                                                                   (AttnDecoderRNN.forward_step)

so ONNX Runtime runs the model as the tutorial's evaluate() does: the encoder once, then one decoder step per token
with the argmax fed back (the loop is the benchmark's, in C#). The encoder's zero initial state is dropped from the
graph (ONNX's missing initial_h is zeros; see make_benchmark_models.strip_zero_initial_states).

Checks: onnx.checker on both graphs, their input and output names, types and shapes, every weight of the file an
initializer of one of them (the GRUs' gate-reordered, as make_benchmark_models checks), and that PyTorch's float64
greedy decoding translates every benchmark sentence (SENTENCES, written to Models/dates_sentences.tsv for
TranslateBenchmarks.cs: the text, a tab, the ISO date) to its ISO date. ONNX Runtime is not installed for Python here: the benchmark's GlobalSetup checks that ONNX Runtime's greedy
tokens equal StaticRnn's for every sentence.

Deterministic: re-running rewrites byte-identical files.

Run: /usr/bin/python3 tools/export_seq2seq_onnx.py
"""

import os
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402
from make_benchmark_models import digest, strip_zero_initial_states  # noqa: E402
from make_seq2seq_fixtures import (  # noqa: E402
    MAX_LENGTH, SOURCE_LENGTH, AttnDecoderRNN, EncoderRNN, Seq2Seq, encode_source, encode_target, float64_copy, greedy,
    source_vocabulary, target_vocabulary)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHTS = os.path.join(ROOT, "samples", "Translator", "models", "dates.safetensors")
OUT = os.path.join(ROOT, "benchmarks", "StaticRnn.Benchmarks", "Models")
HIDDEN = 64
OPSET = 14
SENTENCES_FILE = os.path.join(OUT, "dates_sentences.tsv")

# The benchmark's source sentences, every format of random_date, and their ISO dates; written to SENTENCES_FILE, which
# TranslateBenchmarks reads.
SENTENCES = [
    ("fri 28 jan 2033", "2033-01-28"),
    ("december 6, 1997", "1997-12-06"),
    ("27 may 1983", "1983-05-27"),
    ("2010 sep 15", "2010-09-15"),
    ("16 mar 2033", "2033-03-16"),
    ("03/11/1962", "1962-11-03"),
    ("4.7.2001", "2001-07-04"),
    ("aug 30, 1975", "1975-08-30"),
    ("wednesday 9 february 1955", "1955-02-09"),
    ("21 october 2044", "2044-10-21"),
    ("sat 1 jun 1968", "1968-06-01"),
    ("31/12/1999", "1999-12-31"),
    ("july 14, 2021", "2021-07-14"),
    ("1986 apr 2", "1986-04-02"),
    ("monday 25 november 2019", "2019-11-25"),
    ("17.9.1950", "1950-09-17"),
]


class DecoderStep(nn.Module):
    """AttnDecoderRNN.forward_step as a module of its own, for the exporter."""

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, token, hidden, encoder_outputs):
        return self.decoder.forward_step(token, hidden, encoder_outputs)


def load_model():
    tensors = read_safetensors(WEIGHTS)
    model = Seq2Seq(EncoderRNN(len(source_vocabulary()), HIDDEN), AttnDecoderRNN(HIDDEN, len(target_vocabulary())))
    state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    model.load_state_dict(state, strict=True)
    return model.eval(), state


def export(module, args, path, inputs, outputs):
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, opset_version=OPSET,
                          do_constant_folding=True, export_params=True)
    graph = onnx.load(path)
    removed = strip_zero_initial_states(graph)
    onnx.save(graph, path)
    return removed


def check_graph(path, inputs, outputs):
    """inputs, outputs: (name, elem_type, shape) in order. Returns the graph's initializers."""
    model = onnx.load(path)
    onnx.checker.check_model(model)
    graph = model.graph

    def signature(values):
        return [(v.name, v.type.tensor_type.elem_type, [d.dim_value for d in v.type.tensor_type.shape.dim]) for v in values]

    assert signature(graph.input) == inputs, (path, signature(graph.input))
    assert signature(graph.output) == outputs, (path, signature(graph.output))
    return [numpy_helper.to_array(t) for t in graph.initializer]


def check_weights(state, initializers):
    """Every tensor of the file is in one of the graphs: as it is, or (the GRUs' weights and their two biases
    together) the same values gate-reordered."""
    sorted_inits = [np.sort(a.astype(np.float64).ravel()) for a in initializers]

    def in_graph(values):
        v = np.sort(values.astype(np.float64).ravel())
        return any(a.shape == v.shape and np.array_equal(a, v) for a in sorted_inits)

    for name, t in state.items():
        if ".gru.bias" in name:
            continue
        assert in_graph(t.numpy()), f"{name} is not among the initializers"
    for prefix in ("encoder.gru", "decoder.gru"):
        b = np.concatenate([state[f"{prefix}.bias_ih_l0"].numpy(), state[f"{prefix}.bias_hh_l0"].numpy()])
        assert in_graph(b), f"{prefix}.bias_* not among the initializers"


def main():
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model, state = load_model()

    # PyTorch's float64 greedy decoding translates every benchmark sentence.
    model64 = float64_copy(model)
    with torch.no_grad():
        for text, iso in SENTENCES:
            tokens, _ = greedy(model64, encode_source(text))
            assert tokens == encode_target(iso), (text, iso, tokens)
    print(f"PyTorch float64 greedy: {len(SENTENCES)}/{len(SENTENCES)} benchmark sentences translated exactly")
    with open(SENTENCES_FILE, "w", newline="\n") as f:
        f.writelines(f"{text}\t{iso}\n" for text, iso in SENTENCES)

    F, I = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    source = torch.tensor([encode_source(SENTENCES[0][0])], dtype=torch.long)
    encoder_path = os.path.join(OUT, "dates_encoder.onnx")
    removed = export(model.encoder, (source,), encoder_path, ["source"], ["outputs", "hidden"])
    assert removed == 1, removed
    encoder_inits = check_graph(encoder_path, [("source", I, [1, SOURCE_LENGTH])],
                                [("outputs", F, [1, SOURCE_LENGTH, HIDDEN]), ("hidden", F, [1, 1, HIDDEN])])

    with torch.no_grad():
        outputs, hidden = model.encoder(source)
    step_path = os.path.join(OUT, "dates_decoder_step.onnx")
    token = torch.zeros((1, 1), dtype=torch.long)
    export(DecoderStep(model.decoder), (token, hidden, outputs), step_path,
           ["token", "hidden", "encoder_outputs"], ["logits", "new_hidden", "attention"])
    vocabulary = len(target_vocabulary())
    step_inits = check_graph(step_path,
                             [("token", I, [1, 1]), ("hidden", F, [1, 1, HIDDEN]),
                              ("encoder_outputs", F, [1, SOURCE_LENGTH, HIDDEN])],
                             [("logits", F, [1, 1, vocabulary]), ("new_hidden", F, [1, 1, HIDDEN]),
                              ("attention", F, [1, 1, SOURCE_LENGTH])])
    check_weights(state, encoder_inits + step_inits)
    assert MAX_LENGTH == 12

    for path in (encoder_path, step_path):
        ops = sorted({n.op_type for n in onnx.load(path).graph.node})
        print(f"{os.path.relpath(path, ROOT)}  sha256[:12] {digest(path)}  ops {','.join(ops)}")


if __name__ == "__main__":
    main()
