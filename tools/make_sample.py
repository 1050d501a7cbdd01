#!/usr/bin/python3
"""Trains the SineWave sample model (the sine experiment from the RNN lecture notes).

Task: given 100 samples of a sine wave, predict the next 100 samples (many-to-one: the LSTM
reads the 100 inputs, its last hidden state (8 units) goes through one Linear layer with 100
outputs).

Data:
  * wave:     y(t) = sin(2*pi*f*t + phase), amplitude 1
  * grid:     t_k = k * 0.1, k = 0 .. 199 (time step 0.1); input = samples 0..99, target = 100..199
  * f:        uniform in [0.05, 0.2] cycles per unit of t (periods of 5 to 20 units, i.e. 50 to
              200 samples: every input window holds half a cycle to two cycles). A wider range
              (0.1 .. 0.5) trains much worse with 8 hidden units and a linear 100-output head
              (MSE stuck near 0.2 in the time budget), so the sample uses this one.
  * phase:    uniform in [0, 2*pi)
  * train set 8192 waves, test set 512 waves (different seeds)

Model (PyTorch, the names the C# sample declares):
    rnn = nn.LSTM(1, 8, batch_first=True)   -> rnn.weight_ih_l0 [32,1], rnn.weight_hh_l0 [32,8],
                                               rnn.bias_ih_l0 [32], rnn.bias_hh_l0 [32]
    fc  = nn.Linear(8, 100)                 -> fc.weight [100,8], fc.bias [100]
    y   = fc(h_T)

    [RnnModel("models/sine_lstm.safetensors", SequenceLength = 100, InputSize = 1)]
    [Lstm(8, Weights = "rnn")]
    [Dense(100, Weights = "fc")]

Training: Adam, MSE, minibatch 64, 40 epochs over the 8192 waves (5120 steps), one-cycle
learning rate peaking at 1e-2, gradient norm clipped to 1; CPU, seeded, 2 threads (about a
minute of wall time). Reaches a test MSE of about 0.005 (a wave's variance is 0.5).

Outputs (relative to the repository root):
  samples/SineWave/models/sine_lstm.safetensors   the trained weights (F32)
  samples/SineWave/models/sine_test.json          8 test waves:
      {"frequencies": [...], "phases": [...], "inputs": [[100]], "truth": [[100]], "pytorch": [[100]]}
      inputs/truth are the float32 values the model sees / should produce; pytorch is the
      trained model's float32 PyTorch prediction for each input.

Usage: /usr/bin/python3 tools/make_sample.py
"""

import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from safetensors_io import write_safetensors

DT = 0.1
T_IN = 100
T_OUT = 100
F_MIN, F_MAX = 0.05, 0.2
HIDDEN = 8
EPOCHS = 40
BATCH = 64
N_TRAIN = 8192
N_VAL = 512


def waves(freqs, phases):
    t = np.arange(T_IN + T_OUT, dtype=np.float64) * DT
    y = np.sin(2 * math.pi * freqs[:, None] * t[None, :] + phases[:, None]).astype(np.float32)
    return y[:, :T_IN], y[:, T_IN:]


def random_waves(n, seed):
    rng = np.random.default_rng(seed)
    f = rng.uniform(F_MIN, F_MAX, n)
    p = rng.uniform(0, 2 * math.pi, n)
    x, y = waves(f, p)
    return f, p, x, y


class SineLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(1, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, T_OUT)

    def forward(self, x):                 # x: (N, 100)
        out, _ = self.rnn(x.unsqueeze(-1))
        return self.fc(out[:, -1])        # (N, 100)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(2024)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root, "samples", "SineWave", "models")
    os.makedirs(out_dir, exist_ok=True)

    _, _, xtr, ytr = random_waves(N_TRAIN, 1)
    _, _, xva, yva = random_waves(N_VAL, 2)
    xtr, ytr, xva, yva = map(torch.from_numpy, (xtr, ytr, xva, yva))

    model = SineLstm()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps_per_epoch = N_TRAIN // BATCH
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=EPOCHS * steps_per_epoch,
                                                pct_start=0.1)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(7)
    start = time.time()
    for epoch in range(1, EPOCHS + 1):
        model.train()
        perm = torch.randperm(N_TRAIN, generator=gen)
        for b in range(steps_per_epoch):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        if epoch % 5 == 0 or epoch == 1:
            model.eval()
            with torch.no_grad():
                tr = loss_fn(model(xtr), ytr).item()
                va = loss_fn(model(xva), yva).item()
            print(f"epoch {epoch:4d}  train MSE {tr:.5f}  test MSE {va:.5f}  ({time.time() - start:.0f} s)")

    model.eval()
    with torch.no_grad():
        tr = loss_fn(model(xtr), ytr).item()
        va = loss_fn(model(xva), yva).item()
    print(f"final: train MSE {tr:.6f}, test MSE {va:.6f}, {time.time() - start:.0f} s")

    sd = model.state_dict()
    write_safetensors(os.path.join(out_dir, "sine_lstm.safetensors"), sd)

    # 8 test waves spread over the frequency range, random phases
    freqs = np.linspace(F_MIN, F_MAX, 8)
    phases = np.random.default_rng(3).uniform(0, 2 * math.pi, 8)
    xin, truth = waves(freqs, phases)
    with torch.no_grad():
        pred = model(torch.from_numpy(xin)).numpy().astype(np.float32)
    test_mse = float(np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2))
    print(f"sine_test.json: 8 waves, MSE vs truth {test_mse:.6f}")

    def rows(a):
        return "[\n    " + ",\n    ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in a) + "\n  ]"

    text = ("{\n"
            f'  "frequencies": [{", ".join(repr(float(f)) for f in freqs)}],\n'
            f'  "phases": [{", ".join(repr(float(p)) for p in phases)}],\n'
            f'  "inputs": {rows(xin)},\n'
            f'  "truth": {rows(truth)},\n'
            f'  "pytorch": {rows(pred)}\n'
            "}\n")
    json.loads(text)
    with open(os.path.join(out_dir, "sine_test.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
