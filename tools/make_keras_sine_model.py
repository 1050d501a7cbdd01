#!/usr/bin/python3
"""Writes the SineWave sample's LSTM in Keras layout: samples/SineWave/models/sine_lstm_keras.npz.

This is a layout conversion, not a Keras model: no Keras or TensorFlow runs here and nothing is trained. It
reads the weights PyTorch trained (samples/SineWave/models/sine_lstm.safetensors, made by make_sine_models.py:
nn.LSTM(1, 8) + nn.Linear(8, 100)) and stores the same network under the names and in the layout that Keras 3
gives the weights of

    keras.Sequential([keras.Input((100, 1)), keras.layers.LSTM(8), keras.layers.Dense(100)])

when they are saved as the README's quick start does (np.savez_compressed, keyed by w.path):

    lstm/lstm_cell/kernel            [1, 32]   = rnn.weight_ih_l0 transposed
    lstm/lstm_cell/recurrent_kernel  [8, 32]   = rnn.weight_hh_l0 transposed
    lstm/lstm_cell/bias              [32]      = rnn.bias_ih_l0 + rnn.bias_hh_l0 (Keras has one bias per gate)
    dense/kernel                     [8, 100]  = fc.weight transposed
    dense/bias                       [100]     = fc.bias

Keras' LSTM gate blocks are i, f, c, o, which is PyTorch's i, f, g, o: no reordering. The sample declares it as
SineLstmKeras with Convention = WeightConvention.Keras and checks its predictions against PyTorch's predictions of
SineLstm in sine_test.json, so the file is something to try the Keras convention on, with a known answer.

Check (the script fails if it does not hold): a float64 NumPy forward pass with Keras' LSTM equations over the
arrays read back from the written file gives PyTorch's float32 predictions of SineLstm in sine_test.json within
1e-4 on every test wave (float32 rounding only; a wrong transpose or gate order would be off by ~0.1).

Needs NumPy and torch (safetensors_io, which reads the safetensors file by hand, imports it). Deterministic: the
zip entries carry a fixed date, so a re-run writes a byte-identical file.

    /usr/bin/python3 tools/make_keras_sine_model.py      # from the repository root, about a second
"""

import io
import json
import os
import sys
import zipfile

import numpy as np

from safetensors_io import read_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "samples", "SineWave", "models")
SOURCE = os.path.join(MODELS, "sine_lstm.safetensors")
TARGET = os.path.join(MODELS, "sine_lstm_keras.npz")
TEST_DATA = os.path.join(MODELS, "sine_test.json")
REFERENCE_MODEL = "SineLstm"
TOLERANCE = 1e-4
HIDDEN = 8


def to_keras(pt):
    """PyTorch state_dict arrays (float64 from float32, exact) -> float32 Keras 3 weight paths, in model.weights
    order. The bias sum is rounded to float32 once, as a float32 addition would be."""
    pt = {k: v.astype(np.float32) for k, v in pt.items()}
    w_ih, w_hh = pt["rnn.weight_ih_l0"], pt["rnn.weight_hh_l0"]
    assert w_ih.shape == (4 * HIDDEN, 1) and w_hh.shape == (4 * HIDDEN, HIDDEN), (w_ih.shape, w_hh.shape)
    assert pt["fc.weight"].shape == (100, HIDDEN), pt["fc.weight"].shape
    return {
        "lstm/lstm_cell/kernel": np.ascontiguousarray(w_ih.T),
        "lstm/lstm_cell/recurrent_kernel": np.ascontiguousarray(w_hh.T),
        "lstm/lstm_cell/bias": (pt["rnn.bias_ih_l0"] + pt["rnn.bias_hh_l0"]).astype(np.float32),
        "dense/kernel": np.ascontiguousarray(pt["fc.weight"].T),
        "dense/bias": pt["fc.bias"].astype(np.float32),
    }


def write_npz(path, arrays):
    """What np.savez_compressed writes (one deflated '<name>.npy' per array), with a fixed entry date."""
    with zipfile.ZipFile(path, "w") as z:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, buffer.getvalue())


def keras_forward(w, x):
    """Keras' LSTM (gates i, f, c, o; sigmoid and tanh) and Dense, float64; x: [waves, 100, 1]."""
    kernel, recurrent = w["lstm/lstm_cell/kernel"], w["lstm/lstm_cell/recurrent_kernel"]
    bias = w["lstm/lstm_cell/bias"]
    h = np.zeros((x.shape[0], HIDDEN))
    c = np.zeros((x.shape[0], HIDDEN))
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    for t in range(x.shape[1]):
        z = x[:, t, :] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * HIDDEN:(k + 1) * HIDDEN] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    return h @ w["dense/kernel"] + w["dense/bias"]


def main():
    keras = to_keras(read_safetensors(SOURCE))
    write_npz(TARGET, keras)

    with np.load(TARGET, allow_pickle=False) as npz:
        back = {k: npz[k].astype(np.float64) for k in npz.files}
    assert list(back) == list(keras), list(back)
    with open(TEST_DATA, encoding="utf-8") as f:
        data = json.load(f)
    reference = next(m for m in data["models"] if m["name"] == REFERENCE_MODEL)
    worst = 0.0
    for s, test_set in enumerate(data["sets"]):
        x = np.asarray(test_set["inputs"], dtype=np.float32).astype(np.float64)[:, :, None]
        expected = np.asarray(reference["predictions"][s], dtype=np.float64)
        worst = max(worst, float(np.abs(keras_forward(back, x) - expected).max()))
    print(f"{os.path.relpath(TARGET, ROOT)}: {', '.join(f'{k} {list(v.shape)}' for k, v in keras.items())}")
    print(f"Keras-layout float64 forward pass against PyTorch's float32 {REFERENCE_MODEL} predictions: "
          f"largest difference {worst:.1e} (at most {TOLERANCE:g} allowed)")
    if worst > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
