#!/usr/bin/python3
"""PyTorch's dtype conversions, for the Go safetensors reader/writer tests.

Writes nn/safetensors/testdata/torch_dtypes.safetensors:
  src           F32 (n)  float32 values: specials (±0, ±Inf, NaN, max/min normals and subnormals of
                         every format), exact binary16/bfloat16 rounding midpoints and their float32
                         neighbours, binary16 overflow edges, random values of many magnitudes
  src.f16       F16 (n)  src.half()            (PyTorch's float32 -> binary16 rounding)
  src.bf16      BF16 (n) src.bfloat16()        (PyTorch's float32 -> bfloat16 rounding)
  f16.as_f32    F32 (n)  src.half().float()    (binary16 -> float32)
  bf16.as_f32   F32 (n)  src.bfloat16().float()
  f64           F64 (m)  doubles: specials, float32 rounding midpoints, overflow, tiny values
  f64.as_f32    F32 (m)  f64.float()
  i64, i32, i16, i8, u8, bool: integer/bool tensors whose values are exact float32 values,
  with `<name>.as_f32` F32 holding them converted by PyTorch.
Run: /usr/bin/python3 scripts/golden_safetensors.py
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nn", "safetensors",
                                    "testdata", "torch_dtypes.safetensors"))


def neighbours(vals32):
    """vals32 and the adjacent float32 values on each side."""
    v = np.asarray(vals32, dtype=np.float32)
    return np.concatenate([v, np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))])


def main():
    rng = np.random.default_rng(20240601)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 65536.0,
                         6.1035156e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 1e-10,
                         np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45, 3.3895314e38, 3.4e38],
                        dtype=np.float32)
    # binary16 midpoints: halfway between consecutive finite binary16 values (exact in float32)
    h = rng.integers(0, 0x7bff, 300).astype(np.uint16)
    h = np.concatenate([h, np.arange(0, 8, dtype=np.uint16), np.array([0x3ff, 0x400, 0x7bfe], dtype=np.uint16)])
    lo = h.view(np.float16).astype(np.float64)
    hi = (h + 1).astype(np.uint16).view(np.float16).astype(np.float64)
    mid16 = ((lo + hi) / 2).astype(np.float32)
    # bfloat16 midpoints: float32 bit patterns ending in 0x8000
    b = (rng.integers(0, 0x7f7f, 300).astype(np.uint32) << 16) | 0x8000
    mid_bf = b.view(np.float32)
    rand = (rng.standard_normal(200) * 10.0 ** rng.integers(-12, 12, 200)).astype(np.float32)
    src = np.concatenate([specials, neighbours(mid16), neighbours(mid_bf), rand])
    src = np.concatenate([src, -src]).astype(np.float32)
    s = torch.from_numpy(src)

    f64 = np.concatenate([
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 3.4028235677973366e38,
                  3.402823669209385e38, 1e-300, 1e-46, 7.006492321624085e-46, 1.401298464324817e-45]),
        # float32 midpoints (ties) and values just beside them
        (np.float32(1.0).astype(np.float64) + 2.0 ** -24) * np.array([1.0, 3.0, 5.0, 1024.0]),
        rng.standard_normal(100) * 10.0 ** rng.integers(-40, 38, 100),
    ])
    t = {
        "src": s,
        "src.f16": s.half(),
        "src.bf16": s.bfloat16(),
        "f16.as_f32": s.half().float(),
        "bf16.as_f32": s.bfloat16().float(),
        "f64": torch.from_numpy(f64),
        "f64.as_f32": torch.from_numpy(f64).float(),
    }
    ints = {
        "i64": torch.tensor([0, 1, -1, 2**24, -2**24, 2**24 + 2, 2**40, -2**62, 12345, -2**63], dtype=torch.int64),
        "i32": torch.tensor([0, 7, -7, 2**24, -2**31, 2**30, 16777215], dtype=torch.int32),
        "i16": torch.tensor([0, -32768, 32767, 5], dtype=torch.int16),
        "i8": torch.tensor([0, -128, 127, -3], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 128, 3], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
    }
    for k, v in ints.items():
        t[k] = v
        t[k + ".as_f32"] = v.float()
        assert torch.equal(v.float().double(), v.double()), k  # every value exact in float32
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    stio.save(OUT, t, {"generator": "scripts/golden_safetensors.py", "torch": torch.__version__})
    print(f"{OUT}: {len(t)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
