#!/usr/bin/python3
"""An ONNX graph whose LSTM reads its sequence_lens from a graph input (issue 17: "ONNX graphs with a sequence_lens
input map to the same thing"): tests/StaticRnn.Tests/Fixtures/OnnxLengths/lstm_bi_seqlens.{onnx,json}.

torch.onnx.export cannot export a packed sequence, so the graph is written with onnx.helper from a PyTorch module's
weights: x [6, batch, 3] (time-major, layout 0) and lengths int32 [batch] -> bidirectional LSTM (hidden 5,
sequence_lens = lengths) -> Y_h [2, batch, 5] -> Transpose -> Reshape [batch, 10] -> Gemm (Linear 10 -> 2) -> y.
Expected values: the same module run by PyTorch in float64 on pack_padded_sequence(x, lengths, enforce_sorted=False):
torch.cat((h_n[-2], h_n[-1]), 1) -> Linear. ONNX Runtime must agree (OnnxLengthsTests).

Run with /usr/bin/python3 (Debian's python3-torch and python3-onnx).
"""
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper
from torch.nn.utils.rnn import pack_padded_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "StaticRnn.Tests", "Fixtures", "OnnxLengths")
T, I, H, U = 6, 3, 5, 2
LENGTHS = [6, 1, 3, 5, 2, 6, 4]


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(I, H, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * H, U)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.rnn(packed)
        return self.fc(torch.cat((h_n[-2], h_n[-1]), dim=1))


def onnx_gates(w):
    """PyTorch's LSTM gate blocks i, f, g, o as ONNX's i, o, f, c."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


def main():
    torch.manual_seed(17)
    model = Model().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}

    rng = np.random.default_rng(17)
    x = rng.uniform(-2, 2, size=(len(LENGTHS), T, I)).astype(np.float32)
    for s, n in enumerate(LENGTHS):
        x[s, n:] = rng.uniform(100, 1000, size=(T - n, I)).astype(np.float32)   # garbage past the end
    with torch.no_grad():
        expected = model.double()(torch.from_numpy(x).double(), torch.tensor(LENGTHS)).numpy()

    W = np.stack([onnx_gates(sd["rnn.weight_ih_l0"]), onnx_gates(sd["rnn.weight_ih_l0_reverse"])])
    R = np.stack([onnx_gates(sd["rnn.weight_hh_l0"]), onnx_gates(sd["rnn.weight_hh_l0_reverse"])])
    B = np.stack([np.concatenate([onnx_gates(sd["rnn.bias_ih_l0"]), onnx_gates(sd["rnn.bias_hh_l0"])]),
                  np.concatenate([onnx_gates(sd["rnn.bias_ih_l0_reverse"]), onnx_gates(sd["rnn.bias_hh_l0_reverse"])])])
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (W, "W"), (R, "R"), (B, "B"), (sd["fc.weight"], "fc.weight"), (sd["fc.bias"], "fc.bias"),
        (np.array([0, -1], dtype=np.int64), "flat")]]
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B", "lengths"], ["Y", "Y_h"], name="/rnn/LSTM", hidden_size=H, direction="bidirectional"),
        helper.make_node("Transpose", ["Y_h"], ["h_t"], name="/Transpose", perm=[1, 0, 2]),
        helper.make_node("Reshape", ["h_t", "flat"], ["h"], name="/Reshape"),
        helper.make_node("Gemm", ["h", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm", transB=1),
    ]
    graph = helper.make_graph(nodes, "lstm_bi_seqlens",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, "batch", I]),
                               helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", U])], initializer=inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="StaticRnn tools/make_onnx_lengths_fixture.py")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model, full_check=True)
    os.makedirs(OUT, exist_ok=True)
    onnx.save(onnx_model, os.path.join(OUT, "lstm_bi_seqlens.onnx"))
    with open(os.path.join(OUT, "lstm_bi_seqlens.json"), "w") as f:
        json.dump({"name": "lstm_bi_seqlens", "sequenceLength": T, "inputSize": I, "outputSize": U, "stepOutputSize": 0,
                   "lengths": LENGTHS,
                   "inputs": [[float(v) for v in s.reshape(-1)] for s in x],
                   "expected": [[float(v) for v in e] for e in expected]}, f, indent=1)
    print("wrote", OUT, "expected[0]", expected[0])


if __name__ == "__main__":
    main()
