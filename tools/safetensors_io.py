"""safetensors by hand (the tools run without the `safetensors` package).

Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}} padded with spaces to a multiple of 8
(offsets relative to the end of the header), then the raw little-endian tensor data.
"""

import json
import struct

import numpy as np
import torch


_ST_DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"),
              torch.float16: ("F16", "<f2"), torch.bfloat16: ("BF16", "<u2")}


def _tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy().astype("<i2")
    else:
        arr = t.numpy().astype(_ST_DTYPES[t.dtype][1])
    return arr.tobytes(order="C")


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        data = _tensor_bytes(t)
        header[name] = {"dtype": _ST_DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """Minimal reader, used to check the writer round-trips."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = data[b:e]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32).astype(np.float64)
        else:
            arr = np.frombuffer(buf, dtype={"F32": "<f4", "F64": "<f8", "F16": "<f2"}[info["dtype"]])
            arr = arr.astype(np.float64)
        out[name] = arr.reshape(info["shape"])
    return out


# --------------------------------------------------------------------------------------
# Forward pass (the reference semantics)
# --------------------------------------------------------------------------------------
