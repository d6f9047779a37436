#!/usr/bin/python3
"""Golden files for nn's elementwise math, shape ops and BCE losses: writes testdata/nn/ops_*.safetensors.

Run from the repository root with Debian's PyTorch: /usr/bin/python3 scripts/golden_nn_ops.py
Every file is documented in testdata/nn/README.md, section "Math and shape ops, BCE losses" (keep the two in
step).

Each file holds one functional call: its inputs (`input.<name>`), its output (`output.y`, or `output.loss` for the
losses), the upstream gradient (`upstream.y` / `upstream.loss`; none for a scalar loss, whose backward is seeded
with 1) and the gradient of every float input (`grad.input.<name>`).
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenlib as gl  # noqa: E402

GEN = "scripts/golden_nn_ops.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "nn"))


def fn_case(name, fn, make_inputs, config, out="y", no_grad=()):
    """Run fn(**inputs) and write ops_<name>.safetensors."""
    case = "ops_" + name
    gl.seed(case)
    inputs = make_inputs()
    for k, v in inputs.items():
        if v.is_floating_point() and k not in no_grad:
            v.requires_grad_(True)
    y = fn(**inputs)
    t = {"input." + k: v.detach().clone() for k, v in inputs.items()}
    t["output." + out] = y.detach().clone()
    if y.dim() == 0:
        y.backward()
    else:
        up = torch.randn_like(y)
        t["upstream." + out] = up
        (y * up).sum().backward()
    for k, v in inputs.items():
        if v.requires_grad:
            t["grad.input." + k] = v.grad.detach().clone()
    gl.write(OUT, case, t, gl.meta(case, GEN, config))
    return t


# ---------------------------------------------------------------- elementwise math
def sweep():
    """-6..6 in 40 steps, ±0, ±1e-4, ±10 and 18 normals: 64 values."""
    x = torch.cat([torch.linspace(-6, 6, 40), torch.tensor([10.0, -10.0, 0.0, -0.0, 1e-4, -1e-4]), torch.randn(18)])
    assert x.numel() == 64
    return x


def math_ops():
    fn_case("tanh", lambda x: torch.tanh(x), lambda: {"x": sweep()}, {"fn": "torch.tanh"})
    fn_case("sigmoid", lambda x: torch.sigmoid(x), lambda: {"x": sweep() * 3}, {"fn": "torch.sigmoid", "x": "sweep*3"})
    fn_case("exp", lambda x: torch.exp(x), lambda: {"x": sweep()}, {"fn": "torch.exp"})
    # Positive inputs over many binades: e^sweep plus a few small and large values.
    fn_case("log", lambda x: torch.log(x),
            lambda: {"x": torch.cat([torch.exp(sweep()[:58]), torch.tensor([1e-30, 3e-8, 1.0, 2.0, 1e20, 0.5])])},
            {"fn": "torch.log"})

    def away(*shape):  # |b| in [0.5, 2.5): no division blow-up
        b = 0.5 + 2 * torch.rand(*shape)
        return torch.where(torch.rand(*shape) < 0.5, -b, b)

    fn_case("div", lambda a, b: a / b, lambda: {"a": torch.randn(2, 3, 4), "b": away(2, 3, 4)},
            {"fn": "torch.div", "a": [2, 3, 4], "b": [2, 3, 4]})
    fn_case("div_bcast", lambda a, b: a / b, lambda: {"a": torch.randn(2, 3, 4), "b": away(3, 4)},
            {"fn": "torch.div", "a": [2, 3, 4], "b": [3, 4], "note": "b broadcast over the leading dim"})
    fn_case("div_scalar", lambda a, b: a / b, lambda: {"a": torch.randn(2, 5), "b": away(1).reshape(())},
            {"fn": "torch.div", "a": [2, 5], "b": [], "note": "0-dim divisor"})


# ---------------------------------------------------------------- shape ops
def shape_ops():
    fn_case("transpose", lambda x: x.transpose(0, 2), lambda: {"x": torch.randn(2, 3, 4)},
            {"fn": "torch.transpose", "dim0": 0, "dim1": 2})
    fn_case("permute", lambda x: x.permute(2, 0, 3, 1), lambda: {"x": torch.randn(2, 3, 4, 5)},
            {"fn": "torch.permute", "dims": [2, 0, 3, 1]})
    fn_case("concat", lambda a, b, c: torch.cat([a, b, c], dim=1),
            lambda: {"a": torch.randn(2, 3, 4), "b": torch.randn(2, 1, 4), "c": torch.randn(2, 2, 4)},
            {"fn": "torch.cat", "dim": 1})
    fn_case("narrow", lambda x: x.narrow(2, 1, 3), lambda: {"x": torch.randn(2, 3, 5)},
            {"fn": "torch.narrow", "dim": 2, "start": 1, "length": 3})


# ---------------------------------------------------------------- BCE losses
N, C = 4, 5


def bce_inputs(weight):
    def f():
        d = {"x": torch.sigmoid(2 * torch.randn(N, C)), "target": torch.rand(N, C)}
        d["target"][0] = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5])  # hard and soft labels
        if weight:
            d["weight"] = 0.5 + torch.rand(C)
        return d
    return f


def logits_inputs(weight, pos_weight):
    def f():
        d = {"x": 3 * torch.randn(N, C), "target": torch.rand(N, C)}
        d["x"][0] = torch.tensor([-100.0, 100.0, -30.0, 30.0, 0.0])  # the stable form's territory
        d["target"][0] = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5])
        if weight:
            d["weight"] = 0.5 + torch.rand(C)
        if pos_weight:
            d["pos_weight"] = 0.5 + 2 * torch.rand(C)
        return d
    return f


def losses():
    for red in ("mean", "sum", "none"):
        for w in (False, True):
            name = f"bce_{'weight_' if w else ''}{red}"
            fn_case(name, lambda x, target, weight=None: F.binary_cross_entropy(x, target, weight=weight, reduction=red),
                    bce_inputs(w), {"module": "BCELoss", "reduction": red, "weight": w}, out="loss",
                    no_grad=("weight",))
        for w, pw in ((False, False), (True, True)):
            name = f"bce_logits_{'weights_' if w else ''}{red}"
            fn_case(name, lambda x, target, weight=None, pos_weight=None: F.binary_cross_entropy_with_logits(
                        x, target, weight=weight, pos_weight=pos_weight, reduction=red),
                    logits_inputs(w, pw), {"module": "BCEWithLogitsLoss", "reduction": red, "weight": w,
                                           "pos_weight": pw}, out="loss", no_grad=("weight", "pos_weight"))


def main():
    math_ops()
    shape_ops()
    losses()
    files = [f for f in os.listdir(OUT) if f.startswith("ops_") and f.endswith(".safetensors")]
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in files)
    print(f"{len(files)} files, total {total} bytes")


if __name__ == "__main__":
    main()
