"""Minimal safetensors reader/writer for the golden-file scripts.

Debian's PyTorch 1.13 comes without the `safetensors` Python package, so this
module implements the format (8-byte little-endian header length, JSON header,
raw little-endian row-major data) the way the reference implementation writes
it: tensors ordered by decreasing element size then name, compact JSON, header
padded with spaces to a multiple of 8 bytes.
"""

import json
import struct

import numpy as np
import torch

_TORCH_TO_ST = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
_ST_TO_NP = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "U16": np.uint16,
    "U32": np.uint32,
    "U64": np.uint64,
    "BOOL": np.bool_,
}
_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U8": 1, "U16": 2, "U32": 4, "U64": 8, "BOOL": 1}


def _raw(t):
    """(dtype string, shape list, little-endian bytes) of a torch tensor."""
    t = t.detach().contiguous().cpu()
    dt = _TORCH_TO_ST[t.dtype]
    if dt == "BF16":
        data = t.view(torch.int16).numpy().astype("<i2").tobytes()
    else:
        data = t.numpy().astype(np.dtype(_ST_TO_NP[dt]).newbyteorder("<")).tobytes()
    return dt, list(t.shape), data


def save(path, tensors, metadata=None):
    """Write {name: torch.Tensor} and an optional {str: str} metadata map."""
    items = []
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}: not a torch.Tensor")
        items.append((name,) + _raw(t))
    items.sort(key=lambda it: (-_SIZE[it[1]], it[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(metadata[k]) for k in sorted(metadata)}
    off = 0
    for name, dt, shape, data in items:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for _, _, _, data in items:
            f.write(data)


def load(path):
    """Read a file: ({name: torch.Tensor}, metadata dict or {})."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    if n > 100_000_000 or 8 + n > len(buf):
        raise ValueError(f"{path}: bad header length {n}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    data = buf[8 + n:]
    out = {}
    for name, info in header.items():
        dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        raw = data[b:e]
        if dt == "BF16":
            arr = np.frombuffer(raw, dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_ST_TO_NP[dt]).newbyteorder("<")).copy()
            t = torch.from_numpy(arr.astype(_ST_TO_NP[dt]))
        out[name] = t.reshape(shape)
    return out, meta
