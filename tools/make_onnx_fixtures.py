#!/usr/bin/python3
"""ONNX fixtures for the generator's ONNX importer: [RnnModel("Fixtures/Onnx/<name>.onnx", SequenceLength = T)].

Writes into tests/StaticRnn.Tests/Fixtures/Onnx/ (all of it generated; re-running rewrites byte-identical files):

  * <name>.onnx and <name>.json for every fixture below;
  * OnnxFixtureModels.cs: one declaration per fixture (no layer attributes: the importer reads the graph) and
    OnnxFixtureCatalog.All, FixtureModel records built like FixtureCatalog.All in Fixtures/FixtureModels.cs
    (StepRun only for unidirectional models, the token delegates for token models). The test project does not
    compile it until the generator reads .onnx files (StaticRnn.Tests.csproj: <Compile Remove="Fixtures\\Onnx\\*.cs" />);
  * README.md: the fixture list, with each graph's opset, constant folding and op types.

Two groups of fixtures.

1. TORCH_FIXTURES: nn.Modules written the way users write them (one module per fixture, its forward as people write
   it), built in float32 from a fixed seed (PyTorch's default init, then the parameters scaled so that gates saturate
   at times), exported with torch.onnx.export in eval mode (TorchScript exporter of torch 1.13) at a spread of
   opset_version 9..17, with do_constant_folding off (every idiom at least once: the graph then still holds the
   PyTorch weights and the Slice / Concat / Unsqueeze ops that reorder their gate blocks into ONNX's order, which the
   importer has to fold itself) or on, and the batch axis dynamic (dynamic_axes). The expected outputs are PyTorch's,
   computed in float64 by a .double() copy of the module (the float32 weights cast up) on the float32 inputs; the
   float32 module must agree within 2e-6 (otherwise the weights are scaled down by 0.85 and it is tried again).
   stepExpected (unidirectional models): what Step yields at each step from a zero state, i.e. the head applied to the
   top layer's state after t steps: computed by running the float64 module's own forward on every prefix x[:, :t]
   and taking the last step's output (per-step models) or the output (many-to-one models); a per-step model's prefix
   outputs must equal its full output, a many-to-one model's last prefix output its output (both within 1e-12).

2. NODE_TESTS: ONNX's backend node tests for the recurrent ops (Debian package libonnx-testdata,
   /usr/share/libonnx-testdata/data/node/test_{lstm,gru,rnn,simple_rnn}_*). Each test's model.onnx is one LSTM / GRU /
   RNN node whose inputs are all graph inputs; here every input except X becomes an initializer holding the test's
   own test_data_set_0/input_*.pb, X stays the only graph input (its batch dimension made symbolic, "batch", unless
   an initializer fixes the batch: sequence_lens, initial_h, initial_c), and only
   the first of the test's graph outputs is kept (the batchwise tests also output Y_h: dropped, from the graph and from
   the node's outputs). The expected values are the test's own output_0.pb (float32: what ONNX's reference produced),
   split per sequence of the batch. stepExpected (all these nodes are unidirectional): the node's state after each step
   from ONNX's own numpy reference helpers (onnx.backend.test.case.node.{lstm,gru,rnn}: the code that wrote the
   outputs), run in float64 on the test's inputs; its final result must reproduce output_0.pb within 1e-6.
   Features of these tests that an importer might reject (all converted anyway; each JSON lists them under
   onnx.features):
     - test_gru_*: linear_before_reset = 0 (ONNX's default; PyTorch exports linear_before_reset = 1):
       StaticRnn's Gru(ResetAfter = false);
     - test_lstm_with_peepholes: P (nonzero peepholes: Lstm(Peephole = true)); sequence_lens given as an int32
       initializer (every length equals T = 1, so it changes nothing); initial_h and initial_c given explicitly (zeros);
     - test_*_batchwise: layout = 1 (X [B, T, I], Y [B, T, D, H]);
     - test_*_defaults, test_*_batchwise: no B input (zero biases);
     - test_gru_seq_length, test_rnn_seq_length: despite the names, no sequence_lens input (T = 2, random weights;
       the RNN saturates: outputs of 1.0).
   None of these tests has a sequence_lens shorter than T, a nonzero initial_h, non-default activations, clip,
   input_forget or a reverse / bidirectional direction.

JSON (the schema of tests/StaticRnn.Tests/Fixtures/Reference.cs) plus an "onnx" object telling how to feed the whole
batch of the JSON's sequences to ONNX Runtime and read its output back per sequence:
  "input": the graph input's name; "inputLayout": "batch_major" ([B, T, I] float32, or [B, T] int64 tokens) or
  "time_major" ([T, B, I]); "output": the graph output's name; "outputLayout": "batch_major" (batch axis 0),
  "time_major" ([T, B, ...]: batch axis 1) or "direction_major" (ONNX's Y_h [D, B, H]: batch axis 1, the directions
  one after the other). A sequence's output is the output tensor at that batch index, its remaining axes flattened in
  order (so per-step outputs come step after step); "inputShape" / "outputShape" spell the axes out (B = batch,
  T = steps, I = input size, D = directions, H = hidden size, O = outputs); "onnxRuntimeCpu": whether ONNX Runtime's
  CPU kernels run the graph (false for the layout = 1 node tests: "Batchwise recurrent operations (layout == 1) are
  not supported", ONNX Runtime 1.31). Node-test fixtures add "source" (the test's folder) and "features" (above).

Checked outside this script (there is no onnxruntime for Python here): every graph ONNX Runtime 1.31.1 runs (from C#)
reproduces its JSON's expected outputs within 2e-7, for the whole batch and for each sequence alone (dynamic batch),
and, on a copy with the time axis made dynamic, stepExpected from every prefix of the unidirectional models.

Usage (from the repository root; needs python3-torch, python3-onnx and libonnx-testdata from apt, no onnxruntime):
    /usr/bin/python3 tools/make_onnx_fixtures.py [--out tests/StaticRnn.Tests/Fixtures/Onnx]
"""

import argparse
import collections
import copy
import io
import json
import os
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx
from onnx import numpy_helper

import make_fixtures as mf       # the JSON format, seeds and class names of the other fixtures
from make_fixtures import _seed_for

F32_TOLERANCE = 2e-6      # max |float32 PyTorch - float64 PyTorch| accepted for a fixture
MAX_ABS_OUTPUT = 5.0      # keep outputs moderate
NODE_TEST_DIR = "/usr/share/libonnx-testdata/data/node"


# --------------------------------------------------------------------------------------
# The modules, written the way users write them
# --------------------------------------------------------------------------------------

class LstmLastStep(nn.Module):
    """nn.LSTM(batch_first=True) -> out[:, -1, :] -> nn.Linear."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class GruSigmoid(nn.Module):
    """nn.GRU(batch_first=True) -> h_n[-1] -> nn.Linear -> torch.sigmoid."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):
        _, h_n = self.gru(x)
        return torch.sigmoid(self.fc(h_n[-1]))


class ReluRnnSeq(nn.Module):
    """nn.RNN(nonlinearity='relu', num_layers=2), seq-first, many-to-many: self.fc(out)."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers=2, nonlinearity="relu")
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):            # x: [T, B, I]
        out, _ = self.rnn(x)         # out: [T, B, H]
        return self.fc(out)          # [T, B, O]


class TanhRnn(nn.Module):
    """nn.RNN (tanh), one layer, seq-first -> h_n[-1] -> nn.Linear."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):            # x: [T, B, I]
        _, h_n = self.rnn(x)
        return self.fc(h_n[-1])


class BiLstmSoftmax(nn.Module):
    """Bidirectional nn.LSTM(batch_first=True) -> cat(h_n[-2], h_n[-1]) -> nn.Linear -> softmax(dim=1)."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, outputs)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        h = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return F.softmax(self.fc(h), dim=1)


class BiGruSeqLogSoftmax(nn.Module):
    """Bidirectional 2-layer nn.GRU(batch_first=True), many-to-many -> nn.Linear -> log_softmax(dim=-1)."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, outputs)

    def forward(self, x):
        out, _ = self.gru(x)
        return F.log_softmax(self.fc(out), dim=-1)


class StackedLstmDense(nn.Module):
    """Stacked 2-layer nn.LSTM -> h_n[-1] -> Dropout -> Linear -> ReLU -> Dropout -> Linear -> tanh."""

    def __init__(self, input_size, hidden_size, outputs, middle=6):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=2, batch_first=True, dropout=0.3)
        self.dropout = nn.Dropout(0.3)
        self.fc1 = nn.Linear(hidden_size, middle)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(middle, outputs)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        h = self.dropout(h_n[-1])
        h = self.dropout(self.relu(self.fc1(h)))
        return torch.tanh(self.fc2(h))


class EmbLstm(nn.Module):
    """nn.Embedding(vocab, dim, padding_idx=0) -> nn.LSTM(batch_first=True) -> out[:, -1] -> nn.Linear."""

    def __init__(self, vocab, dim, hidden_size, outputs):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, tokens):
        embedded = self.embedding(tokens)
        out, _ = self.lstm(embedded)
        return self.fc(out[:, -1])


class EmbBiGru(nn.Module):
    """nn.Embedding -> bidirectional nn.GRU(batch_first=True) -> cat(h_n[-2], h_n[-1]) -> nn.Linear."""

    def __init__(self, vocab, dim, hidden_size, outputs):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.gru = nn.GRU(dim, hidden_size, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, outputs)

    def forward(self, tokens):
        _, h_n = self.gru(self.embedding(tokens))
        return self.fc(torch.cat((h_n[-2], h_n[-1]), dim=1))


class LstmZeroState(nn.Module):
    """nn.LSTM whose forward builds explicit zero states, torch.zeros(num_layers, x.size(0), H)."""

    def __init__(self, input_size, hidden_size, outputs, num_layers=2):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


class GruZeroState(nn.Module):
    """nn.GRU with an explicit zero state made by x.new_zeros(1, x.size(0), H)."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.hidden_size = hidden_size
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):
        h0 = x.new_zeros(1, x.size(0), self.hidden_size)
        _, h_n = self.gru(x, h0)
        return self.fc(h_n.squeeze(0))


class LstmNoBias(nn.Module):
    """nn.LSTM(bias=False) -> h_n[-1] -> nn.Linear(bias=False)."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True, bias=False)
        self.fc = nn.Linear(hidden_size, outputs, bias=False)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[-1])


class GruNoBias(nn.Module):
    """nn.GRU(bias=False), seq-first -> out[-1] -> nn.Linear."""

    def __init__(self, input_size, hidden_size, outputs):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, bias=False)
        self.fc = nn.Linear(hidden_size, outputs)

    def forward(self, x):            # x: [T, B, I]
        out, _ = self.gru(x)
        return self.fc(out[-1])


class GruSeqNoHead(nn.Module):
    """nn.GRU, one layer, output = out (many-to-many, no head)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)

    def forward(self, x):
        out, _ = self.gru(x)
        return out


# --------------------------------------------------------------------------------------
# The PyTorch fixtures
# --------------------------------------------------------------------------------------

class TorchFixture:
    def __init__(self, name, make, idiom, T, opset, fold, I=None, vocab=None, n=3, seq_first=False,
                 per_step=False, bidirectional=False, scale=2.0, note=""):
        self.name = name
        self.make = make                # () -> nn.Module (float32, fresh parameters from the global RNG)
        self.idiom = idiom
        self.T = T
        self.I = I                      # None for token models
        self.vocab = vocab              # token models
        self.tokens = vocab is not None
        assert (I is None) == self.tokens
        self.opset = opset
        self.fold = fold
        self.n = n                      # sequences in the JSON
        self.seq_first = seq_first      # the module takes [T, B, I] (batch_first=False)
        self.per_step = per_step        # many-to-many: an output at every step
        self.bidirectional = bidirectional
        self.scale = scale
        self.note = note
        self.input_name = "tokens" if self.tokens else "x"
        self.input_layout = "time_major" if seq_first else "batch_major"
        # only a seq-first per-step model's output is [T, B, ...]; many-to-one outputs are [B, O]
        self.output_layout = "time_major" if (seq_first and per_step) else "batch_major"


# Every idiom is exported at least once with do_constant_folding=False; opsets spread over 9..17.
# Opsets torch 1.13 refused: none of these idioms (it exports LSTM / GRU / RNN from opset 7 on).
TORCH_FIXTURES = [
    TorchFixture("lstm_last_fc_op9", lambda: LstmLastStep(3, 6, 2), "nn.LSTM(batch_first) -> out[:, -1, :] -> Linear",
                 T=6, I=3, opset=9, fold=False),
    TorchFixture("lstm_last_fc_op17_folded", lambda: LstmLastStep(2, 9, 3), "nn.LSTM(batch_first) -> out[:, -1, :] -> Linear",
                 T=8, I=2, opset=17, fold=True, n=4),
    TorchFixture("gru_hn_sigmoid_op11", lambda: GruSigmoid(4, 5, 2), "nn.GRU(batch_first) -> h_n[-1] -> Linear -> sigmoid",
                 T=7, I=4, opset=11, fold=False),
    TorchFixture("gru_hn_sigmoid_op14_folded", lambda: GruSigmoid(2, 7, 1), "nn.GRU(batch_first) -> h_n[-1] -> Linear -> sigmoid",
                 T=5, I=2, opset=14, fold=True, n=4),
    TorchFixture("rnn_relu_2l_seq_op12", lambda: ReluRnnSeq(3, 5, 2),
                 "nn.RNN(relu, 2 layers), seq-first, many-to-many -> fc(out)",
                 T=6, I=3, opset=12, fold=False, seq_first=True, per_step=True, scale=0.9),
    TorchFixture("rnn_relu_2l_seq_op9_folded", lambda: ReluRnnSeq(2, 4, 3),
                 "nn.RNN(relu, 2 layers), seq-first, many-to-many -> fc(out)",
                 T=4, I=2, opset=9, fold=True, seq_first=True, per_step=True, scale=0.9),
    TorchFixture("rnn_tanh_hn_op13", lambda: TanhRnn(2, 8, 3), "nn.RNN(tanh), seq-first -> h_n[-1] -> Linear",
                 T=8, I=2, opset=13, fold=False, seq_first=True),
    TorchFixture("rnn_tanh_hn_t1_op10_folded", lambda: TanhRnn(4, 3, 2), "nn.RNN(tanh), seq-first -> h_n[-1] -> Linear",
                 T=1, I=4, opset=10, fold=True, seq_first=True, n=4, note="T = 1"),
    TorchFixture("lstm_bi_softmax_op10", lambda: BiLstmSoftmax(3, 5, 3),
                 "bidirectional nn.LSTM(batch_first) -> cat(h_n[-2], h_n[-1]) -> Linear -> softmax(dim=1)",
                 T=7, I=3, opset=10, fold=False, bidirectional=True),
    TorchFixture("lstm_bi_softmax_op13_folded", lambda: BiLstmSoftmax(2, 4, 4),
                 "bidirectional nn.LSTM(batch_first) -> cat(h_n[-2], h_n[-1]) -> Linear -> softmax(dim=1)",
                 T=5, I=2, opset=13, fold=True, bidirectional=True),
    TorchFixture("gru_bi_2l_seq_logsoftmax_op14", lambda: BiGruSeqLogSoftmax(3, 4, 3),
                 "bidirectional 2-layer nn.GRU(batch_first), many-to-many -> Linear -> log_softmax(dim=-1)",
                 T=5, I=3, opset=14, fold=False, per_step=True, bidirectional=True),
    TorchFixture("gru_bi_2l_seq_logsoftmax_op9_folded", lambda: BiGruSeqLogSoftmax(2, 3, 2),
                 "bidirectional 2-layer nn.GRU(batch_first), many-to-many -> Linear -> log_softmax(dim=-1)",
                 T=4, I=2, opset=9, fold=True, per_step=True, bidirectional=True, n=4),
    TorchFixture("lstm_2l_dense_op15", lambda: StackedLstmDense(3, 6, 2),
                 "2-layer nn.LSTM -> h_n[-1] -> Dropout -> Linear -> ReLU -> Dropout -> Linear -> tanh",
                 T=6, I=3, opset=15, fold=False),
    TorchFixture("lstm_2l_dense_op11_folded", lambda: StackedLstmDense(2, 5, 3, middle=4),
                 "2-layer nn.LSTM -> h_n[-1] -> Dropout -> Linear -> ReLU -> Dropout -> Linear -> tanh",
                 T=7, I=2, opset=11, fold=True, n=4),
    TorchFixture("emb_lstm_op9", lambda: EmbLstm(12, 4, 6, 3),
                 "nn.Embedding(padding_idx=0) -> nn.LSTM(batch_first) -> out[:, -1] -> Linear",
                 T=7, vocab=12, opset=9, fold=False, scale=1.5),
    TorchFixture("emb_lstm_op16_folded", lambda: EmbLstm(9, 3, 5, 2),
                 "nn.Embedding(padding_idx=0) -> nn.LSTM(batch_first) -> out[:, -1] -> Linear",
                 T=5, vocab=9, opset=16, fold=True, n=4, scale=1.5),
    TorchFixture("emb_gru_bi_op12", lambda: EmbBiGru(10, 3, 4, 2),
                 "nn.Embedding -> bidirectional nn.GRU(batch_first) -> cat(h_n[-2], h_n[-1]) -> Linear",
                 T=6, vocab=10, opset=12, fold=False, bidirectional=True, scale=1.5),
    TorchFixture("lstm_zero_state_op17", lambda: LstmZeroState(3, 5, 2),
                 "2-layer nn.LSTM(x, (h0, c0)), h0 = c0 = torch.zeros(num_layers, x.size(0), H) -> out[:, -1, :] -> Linear",
                 T=6, I=3, opset=17, fold=False),
    TorchFixture("lstm_zero_state_op9_folded", lambda: LstmZeroState(2, 4, 2, num_layers=1),
                 "nn.LSTM(x, (h0, c0)), h0 = c0 = torch.zeros(num_layers, x.size(0), H) -> out[:, -1, :] -> Linear",
                 T=5, I=2, opset=9, fold=True),
    TorchFixture("gru_zero_state_op13", lambda: GruZeroState(3, 6, 2),
                 "nn.GRU(x, h0), h0 = x.new_zeros(1, x.size(0), H) -> h_n.squeeze(0) -> Linear",
                 T=5, I=3, opset=13, fold=False),
    TorchFixture("lstm_nobias_op16", lambda: LstmNoBias(3, 5, 2),
                 "nn.LSTM(bias=False) -> h_n[-1] -> Linear(bias=False)",
                 T=6, I=3, opset=16, fold=False),
    TorchFixture("gru_nobias_op10", lambda: GruNoBias(2, 6, 2),
                 "nn.GRU(bias=False), seq-first -> out[-1] -> Linear",
                 T=7, I=2, opset=10, fold=False, seq_first=True),
    TorchFixture("gru_seq_nohead_op13", lambda: GruSeqNoHead(3, 5),
                 "nn.GRU(batch_first), output = out (many-to-many, no head)",
                 T=6, I=3, opset=13, fold=False, per_step=True),
    TorchFixture("gru_seq_nohead_op17_folded", lambda: GruSeqNoHead(2, 4),
                 "nn.GRU(batch_first), output = out (many-to-many, no head)",
                 T=3, I=2, opset=17, fold=True, per_step=True, n=4),
]


def _make_inputs(fx):
    """[n, T, I] float32 (batch-major, whatever the module takes) or [n, T] int64 tokens."""
    g = torch.Generator().manual_seed(_seed_for(fx.name, 7))
    if fx.tokens:
        tok = torch.randint(0, fx.vocab, (fx.n, fx.T), generator=g)
        tok[0, 0] = 0                 # the padding index and the last entry are exercised
        tok[0, -1] = fx.vocab - 1
        tok[1, fx.T // 2] = 0
        return tok
    x = torch.randn(fx.n, fx.T, fx.I, generator=g) * 1.5
    big = torch.rand(fx.n, fx.T, fx.I, generator=g) < 0.08
    return torch.where(big, x * 3.0, x).float()


def _to_module_layout(fx, x):
    return x.transpose(0, 1).contiguous() if fx.seq_first else x


def _per_sequence(fx, y):
    """The module's output -> [n, OutputSize] (a sequence's values in order, steps one after the other)."""
    if fx.output_layout == "time_major":
        y = y.transpose(0, 1)
    return y.reshape(y.shape[0], -1)


def _scale_parameters(module, factor):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.startswith("embedding."):
                continue              # N(0, 1) embeddings as PyTorch draws them (the padding row stays zero)
            p.mul_(factor)


def build_torch_fixture(fx):
    x32 = _make_inputs(fx)
    factor = fx.scale
    for attempt in range(10):
        torch.manual_seed(_seed_for(fx.name))
        module = fx.make().float()
        assert fx.bidirectional == any(getattr(m, "bidirectional", False) for m in module.modules()), fx.name
        assert fx.seq_first == any(isinstance(m, nn.RNNBase) and not m.batch_first for m in module.modules()), fx.name
        _scale_parameters(module, factor)
        module.eval()
        m64 = copy.deepcopy(module).double().eval()

        def run(m, dtype, steps=None):
            xs = x32 if steps is None else x32[:, :steps]
            xin = xs if fx.tokens else xs.to(dtype)
            # the default dtype follows the run, so a forward's own torch.zeros(...) is float64 in the float64 run
            saved = torch.get_default_dtype()
            torch.set_default_dtype(dtype)
            try:
                with torch.no_grad():
                    return _per_sequence(fx, m(_to_module_layout(fx, xin)))
            finally:
                torch.set_default_dtype(saved)

        y64 = run(m64, torch.float64)
        y32 = run(module, torch.float32)
        err = (y32.double() - y64).abs().max().item()
        s64 = None
        if not fx.bidirectional:
            step_size = y64.shape[1] // fx.T if fx.per_step else y64.shape[1]
            s64 = torch.cat([run(m64, torch.float64, t)[:, -step_size:] for t in range(1, fx.T + 1)], dim=1)
            s32 = torch.cat([run(module, torch.float32, t)[:, -step_size:] for t in range(1, fx.T + 1)], dim=1)
            err = max(err, (s32.double() - s64).abs().max().item())
        mag = y64.abs().max().item()
        if err <= F32_TOLERANCE and mag <= MAX_ABS_OUTPUT:
            break
        factor *= 0.85
    else:
        raise RuntimeError(f"{fx.name}: could not meet the f32 tolerance / magnitude (err {err}, |y| {mag})")

    out_size = y64.shape[1]
    if fx.per_step:
        assert out_size % fx.T == 0
        units = out_size // fx.T
    else:
        units = out_size
    step_size = 0 if fx.bidirectional else units
    if s64 is not None:
        assert s64.shape == (fx.n, fx.T * step_size), (fx.name, s64.shape, step_size)
        if fx.per_step:
            assert torch.allclose(s64, y64, rtol=0, atol=1e-12), fx.name + ": prefix outputs differ from the full output"
        else:
            assert torch.allclose(s64[:, -step_size:], y64, rtol=0, atol=1e-12), fx.name + ": last prefix output"
    assert torch.isfinite(y64).all()

    onnx_bytes = _export(fx, module, x32)
    model = onnx.load_from_string(onnx_bytes)
    onnx.checker.check_model(model, full_check=True)
    g = model.graph
    assert [i.name for i in g.input] == [fx.input_name], (fx.name, [i.name for i in g.input])
    assert [o.name for o in g.output] == ["y"], fx.name
    onnx_info = {
        "input": fx.input_name,
        "inputLayout": fx.input_layout,
        "inputShape": ("TBI" if fx.seq_first else ("BT" if fx.tokens else "BTI")),
        "output": "y",
        "outputLayout": fx.output_layout,
        "outputShape": ("TBO" if fx.output_layout == "time_major" else ("BTO" if fx.per_step else "BO")),
        "onnxRuntimeCpu": True,
    }
    return dict(name=fx.name, T=fx.T, input_size=1 if fx.tokens else fx.I, out_size=out_size, step_size=step_size,
                tokens=fx.tokens, x=x32, y=y64.numpy(), s=None if s64 is None else s64.numpy(), onnx=onnx_info,
                onnx_bytes=onnx_bytes, model=model, err=err, mag=mag, factor=factor, attempts=attempt + 1,
                bidirectional=fx.bidirectional, idiom=fx.idiom, opset=fx.opset, fold=fx.fold, note=fx.note,
                source="PyTorch " + torch.__version__)


def _export(fx, module, x32):
    dummy = _to_module_layout(fx, x32)
    batch_axis_in = 1 if fx.seq_first else 0
    batch_axis_out = 1 if fx.output_layout == "time_major" else 0
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # torch warns that a batch_first / dynamic-batch RNN's zero initial state is exported from the batch size
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (dummy,), buf, opset_version=fx.opset, do_constant_folding=fx.fold,
                          input_names=[fx.input_name], output_names=["y"],
                          dynamic_axes={fx.input_name: {batch_axis_in: "batch"}, "y": {batch_axis_out: "batch"}})
    return buf.getvalue()


# --------------------------------------------------------------------------------------
# ONNX backend node tests
# --------------------------------------------------------------------------------------

NODE_TESTS = [
    "test_gru_batchwise", "test_gru_defaults", "test_gru_seq_length", "test_gru_with_initial_bias",
    "test_lstm_batchwise", "test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes",
    "test_rnn_seq_length",
    "test_simple_rnn_batchwise", "test_simple_rnn_defaults", "test_simple_rnn_with_initial_bias",
]


def _read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def _node_features(node, fed, graph_outputs):
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    feats = []
    if node.op_type == "GRU" and attrs.get("linear_before_reset", 0) == 0:
        feats.append("linear_before_reset = 0 (Gru(ResetAfter = false))")
    if attrs.get("layout", 0) == 1:
        feats.append("layout = 1 (batch-major X and Y; ONNX Runtime's CPU kernels refuse it)")
    if "B" not in fed:
        feats.append("no B input (zero biases)")
    if "P" in fed:
        feats.append("peepholes P" + (" (nonzero)" if np.any(fed["P"] != 0) else " (zeros)"))
    if "sequence_lens" in fed:
        T = fed["X"].shape[1 if attrs.get("layout", 0) == 1 else 0]
        short = np.any(fed["sequence_lens"] < T)
        feats.append("sequence_lens input (" + ("some shorter than T" if short else "all equal to T") + ")")
    for k in ("initial_h", "initial_c"):
        if k in fed:
            feats.append(f"{k} input (" + ("nonzero" if np.any(fed[k] != 0) else "zeros") + ")")
    for a in ("activations", "activation_alpha", "activation_beta", "clip", "input_forget"):
        if a in attrs:
            feats.append(f"{a} = {attrs[a]}")
    if attrs.get("direction", b"forward") not in (b"forward", "forward"):
        feats.append(f"direction = {attrs['direction']}")
    others = [o.name for o in graph_outputs[1:]]
    if others:
        feats.append("the test also outputs " + ", ".join(others) + " (dropped)")
    return feats


def _reference_states(op, fed, layout):
    """The node's state after every step, [T, B, H], from ONNX's own reference helpers in float64 (the code that
    wrote the tests' outputs); unidirectional nodes only. Also returns the helper's Y_h [1, B, H]."""
    from onnx.backend.test.case.node.gru import GRU_Helper
    from onnx.backend.test.case.node.lstm import LSTM_Helper
    from onnx.backend.test.case.node.rnn import RNN_Helper
    helper = {"GRU": GRU_Helper, "LSTM": LSTM_Helper, "RNN": RNN_Helper}[op]
    known = {"GRU": ("W", "R", "B", "initial_h"), "LSTM": ("W", "R", "B", "initial_h", "initial_c", "P"),
             "RNN": ("W", "R", "B", "initial_h")}[op]
    x = fed["X"] if layout == 0 else np.swapaxes(fed["X"], 0, 1)      # the helpers take layout 0
    params = {"X": x.astype(np.float64)}
    for k in known:
        if k in fed:
            params[k] = fed[k].astype(np.float64)
    if "sequence_lens" in fed:
        assert np.all(fed["sequence_lens"] == x.shape[0]), "the helpers know no sequence_lens"
    Y, Y_h = helper(**params).step()                                    # Y [T, 1, B, H]
    assert Y.shape[1] == 1
    return Y[:, 0], Y_h


def build_node_fixture(test):
    folder = os.path.join(NODE_TEST_DIR, test)
    model = onnx.load(os.path.join(folder, "model.onnx"))
    g = model.graph
    assert len(g.node) == 1, test
    node = g.node[0]
    layout = next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == "layout"), 0)
    data = os.path.join(folder, "test_data_set_0")
    fed = {}
    for i, inp in enumerate(g.input):
        t = _read_pb(os.path.join(data, f"input_{i}.pb"))
        assert t.name in ("", inp.name), (test, t.name, inp.name)
        fed[inp.name] = numpy_helper.to_array(t)
    out_name = g.output[0].name
    expected_t = _read_pb(os.path.join(data, "output_0.pb"))
    assert expected_t.name in ("", out_name)
    expected = numpy_helper.to_array(expected_t)
    features = _node_features(node, fed, list(g.output))

    # The converted graph: X the only input, everything else an initializer. X's batch dimension is made symbolic
    # unless an initializer has a batch dimension too (sequence_lens, initial_h, initial_c), which fixes it.
    x_info = copy.deepcopy(next(i for i in g.input if i.name == "X"))
    batch_axis_x = 0 if layout == 1 else 1
    dynamic_batch = not any(k in fed for k in ("sequence_lens", "initial_h", "initial_c"))
    if dynamic_batch:
        x_info.type.tensor_type.shape.dim[batch_axis_x].dim_param = "batch"
    else:
        features.append(f"batch fixed at {fed['X'].shape[batch_axis_x]} by the initializers")
    inits = []
    for inp in g.input:
        if inp.name != "X":
            inits.append(numpy_helper.from_array(fed[inp.name], inp.name))
    new_node = copy.deepcopy(node)
    outs = list(node.output)
    keep = outs.index(out_name)
    outs = [o if j == keep else "" for j, o in enumerate(outs)]
    while outs and outs[-1] == "":
        outs.pop()
    del new_node.output[:]
    new_node.output.extend(outs)
    y_info = copy.deepcopy(g.output[0])
    # Y [T, D, B, H] / Y_h [D, B, H] in layout 0; Y [B, T, D, H] / Y_h [B, D, H] in layout 1
    if layout == 1:
        batch_axis_y = 0
    else:
        batch_axis_y = 2 if out_name == "Y" else 1
    if dynamic_batch:
        y_info.type.tensor_type.shape.dim[batch_axis_y].dim_param = "batch"
    graph = onnx.helper.make_graph([new_node], test.replace("test_", ""), [x_info], [y_info], initializer=inits)
    new_model = onnx.helper.make_model(graph, opset_imports=list(model.opset_import),
                                       producer_name="tools/make_onnx_fixtures.py")
    new_model.ir_version = model.ir_version
    onnx.checker.check_model(new_model, full_check=True)

    X = fed["X"]
    if layout == 1:
        B, T, I = X.shape
        xs = X.reshape(B, T * I)
    else:
        T, B, I = X.shape
        xs = np.transpose(X, (1, 0, 2)).reshape(B, T * I)
    y = np.moveaxis(expected, batch_axis_y, 0).reshape(B, -1).astype(np.float64)
    if out_name == "Y_h":
        assert layout == 0, "a layout-1 Y_h would need its own layout name"
        out_layout, out_shape = "direction_major", "DBH"
    else:
        assert layout == 1, "a layout-0 Y would be [T, D, B, H]"
        out_layout, out_shape = "batch_major", "BTDH"

    states, y_h = _reference_states(node.op_type, fed, layout)        # [T, B, H]
    H = states.shape[-1]
    ref_full = np.transpose(states, (1, 0, 2)).reshape(B, T * H) if out_name == "Y" else states[-1].reshape(B, H)
    assert np.abs(ref_full - y).max() <= 1e-6, (test, np.abs(ref_full - y).max())
    s = np.transpose(states, (1, 0, 2)).reshape(B, T * H)

    name = "node_" + test
    onnx_info = {
        "input": "X",
        "inputLayout": "batch_major" if layout == 1 else "time_major",
        "inputShape": "BTI" if layout == 1 else "TBI",
        "output": out_name,
        "outputLayout": out_layout,
        "outputShape": out_shape,
        "source": "libonnx-testdata data/node/" + test,
        "features": features,
        # ONNX Runtime's CPU kernels (1.31) refuse layout = 1: "Batchwise recurrent operations (layout == 1) are not
        # supported" (found with ONNX Runtime 1.31.1 from C#; there is no onnxruntime for Python here)
        "onnxRuntimeCpu": layout == 0,
    }
    return dict(name=name, T=T, input_size=I, out_size=y.shape[1], step_size=H, tokens=False,
                x=torch.from_numpy(xs.reshape(B, T, I).copy()), y=y, s=s, onnx=onnx_info,
                onnx_bytes=new_model.SerializeToString(), model=new_model, err=0.0, mag=np.abs(y).max(), factor=1.0,
                attempts=1, bidirectional=False, idiom=f"ONNX backend node test {test}: one {node.op_type} node",
                opset=new_model.opset_import[0].version, fold=None, note="; ".join(features), source=test)


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

class _Shim:
    """What make_fixtures.write_json reads of a fixture."""

    def __init__(self, r):
        self.name = r["name"]
        self.T = r["T"]
        self.tokens = r["tokens"]
        self.I = None if r["tokens"] else r["input_size"]


def write_json(path, r):
    """make_fixtures.write_json (the format of every fixture JSON), then the "onnx" object added at the end."""
    mf.write_json(path, dict(fx=_Shim(r), out_size=r["out_size"], step_size=r["step_size"], x=r["x"], y=r["y"],
                             s=r["s"]))
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n}\n")
    text = text[:-3] + ',\n  "onnx": ' + json.dumps(r["onnx"]) + "\n}\n"
    back = json.loads(text)  # well-formed, and the shapes agree
    n = len(back["expected"])
    assert all(len(e) == r["out_size"] for e in back["expected"])
    seqs = back["tokens"] if r["tokens"] else back["inputs"]
    assert len(seqs) == n and all(len(q) == r["T"] * r["input_size"] for q in seqs)
    if back["stepExpected"] is not None:
        assert len(back["stepExpected"]) == n and all(len(q) == r["T"] * r["step_size"] for q in back["stepExpected"])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def class_name(name):
    return "Onnx" + mf.class_name(name)


def _describe(r):
    if r["fold"] is None:
        return f"{r['idiom']}; opset {r['opset']}" + (f"; {r['note']}" if r["note"] else "")
    return (f"{r['idiom']}; opset {r['opset']}, do_constant_folding={r['fold']}"
            + (f"; {r['note']}" if r["note"] else ""))


def write_cs(path, results):
    out = []
    out.append("// <auto-generated> by tools/make_onnx_fixtures.py; do not edit. </auto-generated>")
    out.append("using System;")
    out.append("using StaticRnn;")
    out.append("")
    out.append("namespace StaticRnn.Tests.Fixtures;")
    out.append("")
    for r in results:
        out.append(f"// {_describe(r)}")
        out.append(f'[RnnModel("Fixtures/Onnx/{r["name"]}.onnx", SequenceLength = {r["T"]})]')
        out.append(f"public static partial class {class_name(r['name'])} {{ }}")
        out.append("")
    out.append("/// <summary>The models compiled from Fixtures/Onnx/*.onnx (tools/make_onnx_fixtures.py); their references are")
    out.append("/// Fixtures/Onnx/&lt;name&gt;.json.</summary>")
    out.append("public static class OnnxFixtureCatalog")
    out.append("{")
    out.append("    public static readonly FixtureModel[] All =")
    out.append("    [")
    for r in results:
        c = class_name(r["name"])
        head = f'new FixtureModel("{r["name"]}", {c}.SequenceLength, {c}.InputSize, {c}.OutputSize, '
        head += "0," if r["bidirectional"] else f"{c}.StepOutputSize,"
        out.append("        " + head)
        if r["bidirectional"]:
            step = "null"
        elif r["tokens"]:
            step = (f"(tok, y) => {{ var s = default({c}.State); for (int t = 0; t < {c}.SequenceLength; t++) "
                    f"{c}.Step(ref s, tok[t], y.Slice(t * {c}.StepOutputSize, {c}.StepOutputSize)); }}")
        else:
            step = (f"(x, y) => {{ var s = default({c}.State); for (int t = 0; t < {c}.SequenceLength; t++) "
                    f"{c}.Step(ref s, x.Slice(t * {c}.InputSize, {c}.InputSize), "
                    f"y.Slice(t * {c}.StepOutputSize, {c}.StepOutputSize)); }}")
        if r["tokens"]:
            out.append("            null, null, null,")
            out.append(f"            {c}.Predict, {c}.PredictBatch,")
            out.append(f"            {step}),")
        else:
            out.append(f"            {c}.Predict, {c}.PredictBatch,")
            out.append(f"            {step},")
            out.append("            null, null, null),")
    out.append("    ];")
    out.append("}")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


def op_counts(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def _ops_text(counts):
    return ", ".join(f"{op}×{k}" if k > 1 else op for op, k in sorted(counts.items()))


def write_readme(path, results, total_bytes):
    L = []
    L.append("# ONNX fixtures")
    L.append("")
    L.append("Generated by `tools/make_onnx_fixtures.py` (its docstring has the details); do not edit by hand. Each")
    L.append("`<name>.onnx` has a `<name>.json` (the schema of `Fixtures/Reference.cs`: inputs or tokens, PyTorch's float64")
    L.append("outputs or the ONNX test's own outputs, the per-step outputs of `Step` from a zero state, null for")
    L.append("bidirectional models) with an extra `onnx` object: the graph input and output names, and their layouts")
    L.append("(`batch_major`: batch axis 0; `time_major`: [T, B, ...]; `direction_major`: ONNX's Y_h [D, B, H]), so the")
    L.append("JSON's sequences can be fed to ONNX Runtime as one batch and its output read back per sequence.")
    L.append("`OnnxFixtureModels.cs` declares one `[RnnModel(\"Fixtures/Onnx/<name>.onnx\", SequenceLength = T)]` class per")
    L.append("fixture and `OnnxFixtureCatalog.All`; the test project leaves it out of the build until the generator reads")
    L.append(".onnx files (issue 15).")
    L.append("")
    L.append("## Exported by PyTorch " + torch.__version__ + " (torch.onnx.export, TorchScript exporter, eval mode, dynamic batch axis)")
    L.append("")
    L.append("| name | module | opset | folding | T | input | output | ops in the graph |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        if r["fold"] is None:
            continue
        o = r["onnx"]
        L.append(f"| {r['name']} | {r['idiom']} | {r['opset']} | {'on' if r['fold'] else 'off'} | {r['T']} | "
                 f"{o['input']} {o['inputShape']} | {o['output']} {o['outputShape']} ({r['out_size']}/seq) | "
                 f"{_ops_text(op_counts(r['model']))} |")
    L.append("")
    L.append("## ONNX backend node tests (libonnx-testdata " + "1.12" + ", data/node)")
    L.append("")
    L.append("One node each; every node input but X turned into an initializer (the test's input_*.pb), X the only graph")
    L.append("input with its batch dimension made symbolic (unless initializers fix the batch), only the first graph")
    L.append("output kept. Expected values: the test's output_0.pb (float32); stepExpected: ONNX's own numpy reference")
    L.append("helpers in float64. ONNX Runtime's CPU kernels refuse layout = 1 (the batchwise tests; `onnxRuntimeCpu`: false).")
    L.append("")
    L.append("| name | node | opset | T | batch | output | features an importer may reject |")
    L.append("|---|---|---|---|---|---|---|")
    for r in results:
        if r["fold"] is not None:
            continue
        o = r["onnx"]
        node = r["model"].graph.node[0]
        L.append(f"| {r['name']} | {node.op_type} (hidden {r['step_size']}) | {r['opset']} | {r['T']} | "
                 f"{len(r['y'])} | {o['output']} {o['outputShape']} | {'; '.join(o['features'])} |")
    L.append("")
    L.append("## Op types across all graphs")
    L.append("")
    total = collections.Counter()
    graphs = collections.Counter()
    for r in results:
        c = op_counts(r["model"])
        total.update(c)
        graphs.update(c.keys())
    L.append("| op | nodes | graphs |")
    L.append("|---|---|---|")
    for op, k in sorted(total.items(), key=lambda kv: (-graphs[kv[0]], kv[0])):
        L.append(f"| {op} | {k} | {graphs[op]} |")
    L.append("")
    L.append(f"{len(results)} fixtures, {total_bytes / 1024:.1f} KiB (.onnx + .json).")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--out", default=os.path.join(root_dir, "tests", "StaticRnn.Tests", "Fixtures", "Onnx"))
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    names = [fx.name for fx in TORCH_FIXTURES] + ["node_" + t for t in NODE_TESTS]
    assert len(names) == len(set(names))
    assert len({class_name(n) for n in names}) == len(names)

    os.makedirs(args.out, exist_ok=True)
    results = []
    total = 0
    print(f"{'name':<40} {'opset':>5} {'fold':>5} {'T':>2} {'in':>3} {'out':>4} {'step':>4} {'max|y|':>6} "
          f"{'f32 err':>9} {'scale':>5}  ops")
    for item in TORCH_FIXTURES + NODE_TESTS:
        r = build_torch_fixture(item) if isinstance(item, TorchFixture) else build_node_fixture(item)
        onnx_path = os.path.join(args.out, r["name"] + ".onnx")
        with open(onnx_path, "wb") as f:
            f.write(r["onnx_bytes"])
        js_path = os.path.join(args.out, r["name"] + ".json")
        write_json(js_path, r)
        total += os.path.getsize(onnx_path) + os.path.getsize(js_path)
        results.append(r)
        fold = "-" if r["fold"] is None else ("on" if r["fold"] else "off")
        print(f"{r['name']:<40} {r['opset']:>5} {fold:>5} {r['T']:>2} {r['input_size']:>3} {r['out_size']:>4} "
              f"{r['step_size']:>4} {r['mag']:>6.3f} {r['err']:>9.2e} {r['factor']:>5.2f}  "
              f"{_ops_text(op_counts(r['model']))}")
    write_cs(os.path.join(args.out, "OnnxFixtureModels.cs"), results)
    write_readme(os.path.join(args.out, "README.md"), results, total)
    print(f"\n{len(results)} fixtures ({len(TORCH_FIXTURES)} PyTorch, {len(NODE_TESTS)} ONNX node tests), "
          f"{total / 1024:.1f} KiB in {os.path.relpath(args.out, root_dir)}")


if __name__ == "__main__":
    main()
