#!/usr/bin/python3
"""Writes the small NumPy files that NpyReaderTests and NpzReaderTests read.

Run from anywhere with a Python that has NumPy (the files were made with NumPy 1.24.2):

    /usr/bin/python3 tests/StaticRnn.Generators.Tests/Weights/NumPyFiles/make_npy_files.py

Every value is an exact binary fraction built from np.arange, so the C# tests recompute the same
numbers and compare them bit for bit:

    seq(n)   = (np.arange(n) - 2.5) / 4      e.g. -0.625, -0.375, -0.125, 0.125, ...
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def seq(n, dtype):
    return ((np.arange(n, dtype=np.float64) - 2.5) / 4).astype(dtype)


def path(name):
    return os.path.join(HERE, name)


def main():
    # np.save, format 1.0 (NumPy picks 1.0 whenever the header fits in 65535 bytes).
    np.save(path("f4_2x3x4.npy"), seq(24, "<f4").reshape(2, 3, 4))      # 3-d, little-endian float32
    np.save(path("f8_be_5.npy"), seq(5, ">f8"))                           # 1-d, big-endian float64
    np.save(path("f2_2x3.npy"), seq(6, "<f2").reshape(2, 3))              # 2-d, little-endian float16
    np.save(path("f4_scalar.npy"), np.array(42.5, dtype="<f4"))          # 0-d: shape ()
    np.save(path("f4_5.npy"), seq(5, "<f4"))                              # 1-d: shape (5,)
    np.save(path("f4_0x3.npy"), np.zeros((0, 3), dtype="<f4"))           # no elements
    np.save(path("fortran_2x3.npy"), np.asfortranarray(seq(6, "<f4").reshape(2, 3)))
    np.save(path("object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
    np.save(path("i8_4.npy"), np.arange(4, dtype="<i8"))

    # Format versions 2.0 (4-byte header length) and 3.0 (UTF-8 header) of the 3-d array.
    for version in [(2, 0), (3, 0)]:
        with open(path("f4_2x3x4_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, seq(24, "<f4").reshape(2, 3, 4), version=version)

    # Archives: Keras-style names with '/' and ':0', one big-endian member.
    members = {
        "lstm/lstm_cell/kernel:0": seq(12, "<f4").reshape(3, 4),
        "lstm/lstm_cell/bias:0": seq(4, "<f4"),
        "dense/kernel_be": seq(6, ">f8").reshape(2, 3),
        "half": seq(3, "<f2"),
    }
    np.savez(path("keras_stored.npz"), **members)
    np.savez_compressed(path("keras_deflated.npz"), **members)

    # An archive whose every member lies in the file verbatim (stored, little-endian).
    np.savez(path("little_endian.npz"), weight=seq(6, "<f4").reshape(3, 2), bias=seq(2, "<f8"))

    for name in sorted(os.listdir(HERE)):
        if name.endswith((".npy", ".npz")):
            print("%-24s %5d bytes" % (name, os.path.getsize(path(name))))


if __name__ == "__main__":
    main()
