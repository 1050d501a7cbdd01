#!/usr/bin/python3
"""Trains the SineWave sample's models: the sine experiment of the RNN lecture notes.

Task: given 100 samples of a sine wave, predict the next 100 samples. The recurrent models are
many-to-one: the cell reads the 100 inputs one at a time, its last hidden state goes through one
Linear layer with 100 outputs. The baseline is an MLP that sees the 100 inputs at once.

Data
  * wave:      y(t) = sin(2*pi*f*t + phase), amplitude 1, t_k = k * 0.1 for k = 0 .. 199;
               input = samples 0..99, target = samples 100..199
  * training:  1024 waves, f uniform in [0.05, 0.2] cycles per unit of t (periods of 50 to 200 samples:
               each input window holds half a cycle to two cycles), phase uniform in [0, 2*pi)
  * noise:     i.i.d. Gaussian, sigma = 0.2 (the waves' standard deviation is 0.71)
  * "Treino com ruído" (the noisy models): the same 1024 waves, each corrupted once (a fixed noisy
               data set, not fresh noise per epoch) over all 200 samples: noisy inputs AND noisy
               targets, as a measured signal would be
  * test sets, 32 waves each, phase uniform in [0, 2*pi):
      Teste              f uniform in [0.05, 0.2] (the training range), clean
      Teste2             f outside the training range: 16 waves uniform in [0.025, 0.04] (periods
                         250 to 400 samples) and 16 uniform in [0.25, 0.35] (periods 29 to 40 samples)
      Teste com ruído    the Teste waves with noise (sigma 0.2) added to the 100 inputs
      Teste2 com ruído   the Teste2 waves with noise added to the inputs
    The truth is always the clean continuation: the MSE measures how well a model recovers the
    signal, not the noise.

Models (hidden state 8, Dense 100; parameter counts as Keras counts them, one bias per gate)
  name       PyTorch                                        tensors          Keras-style parameters
  SineMlp    Linear(100,100), tanh, Linear(100,100)         fc1.*, fc2.*     10,100 + 10,100 = 20,200
  SineRnn    nn.RNN(1, 8) tanh + Linear(8, 100)             rnn.*, fc.*      80 + 900
  SineLstm   nn.LSTM(1, 8) + Linear(8, 100)                 rnn.*, fc.*      320 + 900
  SineGru    reset-before GRU(1, 8) + Linear(8, 100)        rnn.*, fc.*      240 + 900
  SineGru64  reset-before GRU(1, 64) + Linear(64, 100)      rnn.*, fc.*      12,672 + 6,500
  and the same five trained on the noisy data (SineMlpNoisy, ...).

  PyTorch's nn.RNN and nn.LSTM have two bias vectors per gate (bias_ih + bias_hh); they act as one,
  so the Keras-style count leaves one out (PyTorch counts 88 and 352). The GRU is the original one
  of Cho et al. (Keras reset_after=False; in C#: [Gru(8, ResetAfter = false)]):
      z  = sigmoid(W_z x + U_z h + b_z)
      r  = sigmoid(W_r x + U_r h + b_r)
      n  = tanh(W_n x + U_n (r * h) + b_n)
      h' = (1 - z) * n + z * h
  PyTorch has no such GRU; GruResetBefore below computes it (a TorchScript time loop) with one bias
  per gate, and it is stored in nn.GRU's layout, which StaticRnn reads for ResetAfter = false:
      rnn.weight_ih_l0 [3H, 1]  rows r, z, n (W_r; W_z; W_n)
      rnn.weight_hh_l0 [3H, H]  rows r, z, n (U_r; U_z; U_n)
      rnn.bias_ih_l0   [3H]     b_r, b_z, b_n
      rnn.bias_hh_l0   [3H]     zeros (StaticRnn adds bias_ih + bias_hh for every gate)

Training: 200 epochs of Adam on the MSE, minibatches of 64 (16 steps per epoch, 3200 in all),
one-cycle learning rate peaking at 1e-2 (3e-3 for the MLP), gradient norm clipped to 1. CPU, one
thread, every model seeded on its own (the same result whatever --only selects; TorchScript's legacy
executor, see main); about 12 minutes for the ten models on an idle core, 9 of them for the two GRU 64s.

Checks (the script fails if one does not hold)
  * each model's Keras-style parameter count is the one above, and PyTorch's count agrees with it
    (plus the second bias vector for nn.RNN and nn.LSTM);
  * GruResetBefore agrees with nn.GRU when its reset gate is moved behind U_n (the only difference);
  * the stored weights read back from the safetensors file give, through an independent float64
    NumPy forward pass with the equations StaticRnn implements, PyTorch's float32 predictions within
    1e-4 on every test wave (float32 rounding, up to ~4e-5 here; an error in the layout would be ~0.1).

Outputs (relative to the repository root)
  samples/SineWave/models/<name>.safetensors   the weights, F32 (sine_lstm, sine_lstm_noisy, ...)
  samples/SineWave/models/sine_test.json       the test sets and PyTorch's predictions:
      {"training": "200 epochs on ...", "dt": 0.1, "noiseSigma": 0.2, "trainFrequencies": [0.05, 0.2],
       "sets":   [{"name", "description", "noisy", "frequencies", "phases", "inputs": [[100]], "truth": [[100]]}],
       "models": [{"name", "file", "trainedOnNoise", "kerasParameters",
                   "predictions": [[[100]] per set, in the order of "sets"]}]}
      inputs/truth are the float32 values the models see / should produce; predictions are
      PyTorch's float32 outputs. Numbers are written in the shortest form that reads back as the
      same float32.

Usage: /usr/bin/python3 tools/make_sine_models.py [--only sine_gru sine_gru_noisy ...] [--epochs N]
  --only retrains some models and keeps the others' weights (their predictions are recomputed
  from the stored files); --epochs changes the epoch count (for trials; the sample uses 200).
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn

from safetensors_io import read_safetensors, write_safetensors

DT = 0.1
T_IN = 100
T_OUT = 100
F_TRAIN = (0.05, 0.2)
F_OUT_LOW = (0.025, 0.04)
F_OUT_HIGH = (0.25, 0.35)
NOISE_SIGMA = 0.2
N_TRAIN = 1024
N_TEST = 32
BATCH = 64
EPOCHS = 200

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "samples", "SineWave", "models")


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def waves(freqs, phases):
    """Clean float32 waves, (n, 200)."""
    t = np.arange(T_IN + T_OUT, dtype=np.float64) * DT
    return np.sin(2 * math.pi * freqs[:, None] * t[None, :] + phases[:, None]).astype(np.float32)


def training_set(noisy):
    rng = np.random.default_rng(1)
    f = rng.uniform(*F_TRAIN, N_TRAIN)
    p = rng.uniform(0, 2 * math.pi, N_TRAIN)
    y = waves(f, p)
    if noisy:
        noise = np.random.default_rng(11).normal(0.0, NOISE_SIGMA, y.shape)
        y = (y.astype(np.float64) + noise).astype(np.float32)
    return torch.from_numpy(y[:, :T_IN].copy()), torch.from_numpy(y[:, T_IN:].copy())


def test_sets():
    rng = np.random.default_rng(2)
    f_in = rng.uniform(*F_TRAIN, N_TEST)
    p_in = rng.uniform(0, 2 * math.pi, N_TEST)
    half = N_TEST // 2
    f_out = np.concatenate([rng.uniform(*F_OUT_LOW, half), rng.uniform(*F_OUT_HIGH, N_TEST - half)])
    p_out = rng.uniform(0, 2 * math.pi, N_TEST)
    described = (
        ("Teste", f_in, p_in, f"f in the training range [{F_TRAIN[0]}, {F_TRAIN[1]}], clean"),
        ("Teste2", f_out, p_out, f"f outside it: {half} in [{F_OUT_LOW[0]}, {F_OUT_LOW[1]}], "
                                 f"{N_TEST - half} in [{F_OUT_HIGH[0]}, {F_OUT_HIGH[1]}], clean"))
    sets = []
    for name, f, p, description in described:
        y = waves(f, p)
        sets.append(dict(name=name, description=description, noisy=False, frequencies=f, phases=p,
                         inputs=y[:, :T_IN], truth=y[:, T_IN:]))
    noise_rng = np.random.default_rng(12)
    for clean in list(sets):
        noise = noise_rng.normal(0.0, NOISE_SIGMA, clean["inputs"].shape)
        inputs = (clean["inputs"].astype(np.float64) + noise).astype(np.float32)
        sets.append(dict(clean, name=clean["name"] + " com ruído", noisy=True, inputs=inputs,
                         description=f"the {clean['name']} waves, Gaussian noise σ = {NOISE_SIGMA} added to the inputs"))
    return sets


TRAINING = (f"{EPOCHS} epochs on {N_TRAIN:,} waves with f in [{F_TRAIN[0]}, {F_TRAIN[1]}] cycles per unit time "
            f"(time step {DT}); the noisy models on the same waves with noise σ = {NOISE_SIGMA} on inputs and targets")


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

class GruResetBefore(nn.Module):
    """The GRU of Cho et al. (Keras reset_after=False), one bias per gate, nn.GRU's tensor layout."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1.0 / math.sqrt(hidden_size)
        self.weight_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh_l0 = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih_l0 = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, T, I) -> the last hidden state (N, H)."""
        hs = self.hidden_size
        gates_x = torch.nn.functional.linear(x, self.weight_ih_l0, self.bias_ih_l0)  # (N, T, 3H): r, z, n
        u_rz = self.weight_hh_l0[:2 * hs].t()
        u_n = self.weight_hh_l0[2 * hs:].t()
        h = x.new_zeros(x.shape[0], hs)
        for g in gates_x.unbind(1):
            rz = torch.sigmoid(torch.addmm(g[:, :2 * hs], h, u_rz))
            r = rz[:, :hs]
            z = rz[:, hs:]
            n = torch.tanh(torch.addmm(g[:, 2 * hs:], r * h, u_n))
            h = n + z * (h - n)                     # (1 - z) * n + z * h
        return h


class Recurrent(nn.Module):
    """A recurrent cell over the 100 inputs, its last hidden state through Linear(hidden, 100)."""

    def __init__(self, kind, hidden):
        super().__init__()
        self.kind = kind
        if kind == "rnn":
            self.rnn = nn.RNN(1, hidden, batch_first=True)
        elif kind == "lstm":
            self.rnn = nn.LSTM(1, hidden, batch_first=True)
        else:
            self.rnn = torch.jit.script(GruResetBefore(1, hidden))
        self.fc = nn.Linear(hidden, T_OUT)

    def forward(self, x):                       # x (N, 100)
        x = x.unsqueeze(-1)
        h = self.rnn(x) if self.kind == "gru" else self.rnn(x)[0][:, -1]
        return self.fc(h)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(T_IN, 100)
        self.fc2 = nn.Linear(100, T_OUT)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


# name, kind, hidden, Keras-style parameters of the cell (or the whole MLP), of the Dense head, peak lr
ARCHITECTURES = [
    ("sine_mlp", "mlp", 100, 20_200, 0, 3e-3),
    ("sine_rnn", "rnn", 8, 80, 900, 1e-2),
    ("sine_lstm", "lstm", 8, 320, 900, 1e-2),
    ("sine_gru", "gru", 8, 240, 900, 1e-2),
    ("sine_gru64", "gru", 64, 12_672, 6_500, 1e-2),
]
MODELS = [(name + suffix, kind, hidden, cell, head, lr, noisy)
          for noisy, suffix in ((False, ""), (True, "_noisy"))
          for name, kind, hidden, cell, head, lr in ARCHITECTURES]


def build(kind, hidden):
    return Mlp() if kind == "mlp" else Recurrent(kind, hidden)


def keras_parameters(kind, hidden):
    """Keras' count: one bias per gate."""
    if kind == "mlp":
        return (T_IN * 100 + 100) + (100 * T_OUT + T_OUT)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    return gates * hidden * (1 + hidden + 1) + (hidden * T_OUT + T_OUT)


def check_parameters(model, kind, hidden, cell, head):
    keras = keras_parameters(kind, hidden)
    assert keras == cell + head, (kind, hidden, keras, cell + head)
    torch_count = sum(p.numel() for p in model.parameters())
    extra = {"mlp": 0, "rnn": hidden, "lstm": 4 * hidden, "gru": 0}[kind]   # nn.RNN/LSTM's bias_hh
    assert torch_count == keras + extra, (kind, hidden, torch_count, keras, extra)
    return keras


def check_gru_cell():
    """GruResetBefore against nn.GRU: moving r behind U_n (plus U_n's bias) gives nn.GRU's reset-after cell."""
    torch.manual_seed(5)
    cell = GruResetBefore(1, 4)
    ref = nn.GRU(1, 4, batch_first=True)
    x = torch.randn(3, 7, 1)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.weight_ih_l0)
        ref.weight_hh_l0.copy_(cell.weight_hh_l0)
        ref.bias_ih_l0.copy_(cell.bias_ih_l0)
        ref.bias_hh_l0.zero_()
        # With the reset gate at 1 (a large bias) the two cells compute the same.
        ref.bias_ih_l0[:4] = 50.0
        cell.bias_ih_l0[:4] = 50.0
        a = cell(x)
        b = ref(x)[0][:, -1]
    assert torch.allclose(a, b, atol=1e-6), (a - b).abs().max()
    with torch.no_grad():
        ref.bias_ih_l0[:4] = -1.0
        cell.bias_ih_l0[:4] = -1.0
        differs = (cell(x) - ref(x)[0][:, -1]).abs().max().item()
    assert differs > 1e-3, differs               # and with r < 1 they differ: the reset gate is before U_n


# --------------------------------------------------------------------------------------
# Float64 NumPy forward pass over the stored tensors (what StaticRnn computes)
# --------------------------------------------------------------------------------------

def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def numpy_forward(kind, w, x):
    """x (N, 100) float64 -> (N, 100); w: the safetensors file's tensors as float64."""
    if kind == "mlp":
        h = np.tanh(x @ w["fc1.weight"].T + w["fc1.bias"])
        return h @ w["fc2.weight"].T + w["fc2.bias"]
    wi, wh = w["rnn.weight_ih_l0"], w["rnn.weight_hh_l0"]
    b = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
    hs = wh.shape[1]
    h = np.zeros((x.shape[0], hs))
    c = np.zeros((x.shape[0], hs))
    for t in range(x.shape[1]):
        gx = x[:, t:t + 1] @ wi.T + b
        if kind == "rnn":
            h = np.tanh(gx + h @ wh.T)
        elif kind == "lstm":
            g = gx + h @ wh.T
            i, f, cc, o = (g[:, k * hs:(k + 1) * hs] for k in range(4))
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cc)
            h = _sigmoid(o) * np.tanh(c)
        else:
            r = _sigmoid(gx[:, :hs] + h @ wh[:hs].T)
            z = _sigmoid(gx[:, hs:2 * hs] + h @ wh[hs:2 * hs].T)
            n = np.tanh(gx[:, 2 * hs:] + (r * h) @ wh[2 * hs:].T)
            h = (1 - z) * n + z * h
    return h @ w["fc.weight"].T + w["fc.bias"]


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------

def train(index, name, kind, hidden, lr, noisy, epochs):
    torch.manual_seed(100 + index)
    model = build(kind, hidden)
    x, y = training_set(noisy)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = N_TRAIN // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(200 + index)
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=gen)
        total = 0.0
        for b in range(steps):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item()
        if epoch == 1 or epoch % 50 == 0:
            print(f"  {name:18s} epoch {epoch:3d}  train MSE {total / steps:.5f}  ({time.time() - start:.0f} s)",
                  flush=True)
    return model, time.time() - start


def state_to_save(model, kind):
    sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if kind == "gru":
        sd["rnn.bias_hh_l0"] = torch.zeros_like(sd["rnn.bias_ih_l0"])
    return sd


def load_into(model, kind, tensors):
    sd = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    if kind == "gru":
        assert not sd.pop("rnn.bias_hh_l0").any()
    model.load_state_dict(sd)


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------

def f32(v):
    """The shortest text that reads back as the same float32."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def rows(a, indent):
    pad = " " * indent
    return "[\n" + ",\n".join(pad + "  [" + ", ".join(f32(v) for v in r) + "]" for r in a) + "\n" + pad + "]"


def write_json(path, training, sets, results):
    parts = ["{\n",
             f'  "training": {json.dumps(training, ensure_ascii=False)},\n',
             f'  "dt": {DT},\n  "noiseSigma": {NOISE_SIGMA},\n',
             f'  "trainFrequencies": [{F_TRAIN[0]}, {F_TRAIN[1]}],\n',
             '  "sets": [\n']
    set_texts = []
    for s in sets:
        set_texts.append(
            "    {\n"
            f'      "name": {json.dumps(s["name"], ensure_ascii=False)},\n'
            f'      "description": {json.dumps(s["description"], ensure_ascii=False)},\n'
            f'      "noisy": {json.dumps(s["noisy"])},\n'
            f'      "frequencies": [{", ".join(repr(float(v)) for v in s["frequencies"])}],\n'
            f'      "phases": [{", ".join(repr(float(v)) for v in s["phases"])}],\n'
            f'      "inputs": {rows(s["inputs"], 6)},\n'
            f'      "truth": {rows(s["truth"], 6)}\n'
            "    }")
    parts.append(",\n".join(set_texts) + "\n  ],\n")
    parts.append('  "models": [\n')
    model_texts = []
    for r in results:
        preds = ",\n".join(" " * 8 + rows(p, 8).lstrip() for p in r["predictions"])
        model_texts.append(
            "    {\n"
            f'      "name": "{r["name"]}",\n'
            f'      "file": "{r["file"]}",\n'
            f'      "trainedOnNoise": {json.dumps(r["noisy"])},\n'
            f'      "kerasParameters": {r["keras"]},\n'
            f'      "predictions": [\n{preds}\n      ]\n'
            "    }")
    parts.append(",\n".join(model_texts) + "\n  ]\n}\n")
    text = "".join(parts)
    back = json.loads(text)
    for s, b in zip(sets, back["sets"]):
        assert np.array_equal(np.array(b["inputs"], dtype=np.float32), s["inputs"])
        assert np.array_equal(np.array(b["truth"], dtype=np.float32), s["truth"])
    for r, b in zip(results, back["models"]):
        for p, q in zip(r["predictions"], b["predictions"]):
            assert np.array_equal(np.array(q, dtype=np.float32), p)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def class_name(name):
    return "".join(part.capitalize() if not part[-1].isdigit() else part[:-2].capitalize() + part[-2:]
                   for part in name.split("_"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    unknown = set(args.only or []) - {m[0] for m in MODELS}
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; known: {[m[0] for m in MODELS]}")

    torch.set_num_threads(1)
    # TorchScript's default (profiling) executor re-optimizes the GRU's graph after its first calls, and how it does
    # so depends on what ran before in the process: the same model trained after another came out different. The
    # legacy executor compiles one plan per kind of input from the first call, so every model trains the same
    # whatever --only selects (and as fast).
    torch._C._jit_set_profiling_executor(False)
    torch._C._jit_set_profiling_mode(False)
    os.makedirs(OUT_DIR, exist_ok=True)
    check_gru_cell()
    sets = test_sets()

    results = []
    started = time.time()
    for index, (name, kind, hidden, cell, head, lr, noisy) in enumerate(MODELS):
        path = os.path.join(OUT_DIR, name + ".safetensors")
        if args.only is None or name in args.only:
            print(f"{name}: {kind} {hidden}, {'noisy' if noisy else 'clean'} training data", flush=True)
            model, seconds = train(index, name, kind, hidden, lr, noisy, args.epochs)
            write_safetensors(path, state_to_save(model, kind))
            print(f"  {name:18s} trained in {seconds:.0f} s", flush=True)
        else:
            model = build(kind, hidden)
            load_into(model, kind, read_safetensors(path))
            seconds = None
        keras = check_parameters(model, kind, hidden, cell, head)
        model.eval()
        stored = read_safetensors(path)
        predictions = []
        worst = 0.0
        for s in sets:
            with torch.no_grad():
                p = model(torch.from_numpy(s["inputs"])).numpy().astype(np.float32)
            ref = numpy_forward(kind, stored, s["inputs"].astype(np.float64))
            worst = max(worst, float(np.abs(ref - p).max()))
            predictions.append(p)
        assert worst < 1e-4, (name, worst)          # float32 rounding only: a layout error would be ~0.1
        results.append(dict(name=class_name(name), file=name + ".safetensors", noisy=noisy, keras=keras,
                            predictions=predictions, seconds=seconds, numpy_error=worst))

    training = TRAINING if args.epochs == EPOCHS else TRAINING.replace(f"{EPOCHS} epochs", f"{args.epochs} epochs")
    write_json(os.path.join(OUT_DIR, "sine_test.json"), training, sets, results)

    print()
    print(f"total {time.time() - started:.0f} s; test MSE against the clean truth ({N_TEST} waves per set):")
    header = f"{'model':16s} {'params':>7s}" + "".join(f" {s['name']:>17s}" for s in sets) + "  |numpy-torch|"
    print(header)
    for r in results:
        mses = [float(np.mean((p.astype(np.float64) - s["truth"].astype(np.float64)) ** 2))
                for p, s in zip(r["predictions"], sets)]
        print(f"{r['name']:16s} {r['keras']:7,d}" + "".join(f" {m:17.5f}" for m in mses)
              + f"  {r['numpy_error']:.1e}")


if __name__ == "__main__":
    main()
