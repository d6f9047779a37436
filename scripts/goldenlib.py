"""Shared helpers of golden_nn.py and golden_transformer.py.

Every case is seeded from its own name (crc32), so adding or reordering cases
never changes the files of the others.
"""

import copy
import json
import os
import zlib

import torch
import torch.nn as nn

import stio

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ADAM = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
ADAMW = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def seed(case):
    torch.manual_seed(zlib.crc32(case.encode()))


def perturb(module):
    """Move zero/one-initialised parameters off their init values.

    LayerNorm weight -> 1 + N(0, 0.1^2), LayerNorm bias and every other
    parameter whose name ends in "bias" -> + N(0, 0.1^2).
    """
    with torch.no_grad():
        for mod in module.modules():
            for pname, p in mod.named_parameters(recurse=False):
                if p is None:
                    continue
                if isinstance(mod, nn.LayerNorm) and pname == "weight":
                    p.copy_(1 + 0.1 * torch.randn_like(p))
                elif pname.endswith("bias"):
                    p.add_(0.1 * torch.randn_like(p))


def meta(case, generator, config, **extra):
    m = {"generator": generator, "torch": torch.__version__, "case": case, "config": json.dumps(config)}
    for k, v in extra.items():
        m[k] = json.dumps(v)
    return m


def optim_step(cls, hp, params, grads):
    """Parameters after one step of cls(**hp) from params with grads (fresh state)."""
    ps = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    for k, p in ps.items():
        p.grad = grads[k].detach().clone()
    opt = cls(list(ps.values()), **hp)
    opt.step()
    return {k: p.detach() for k, p in ps.items()}


def module_case(outdir, generator, case, build, make_inputs, forward, config, loss_outputs,
                optimizers=(("adam", torch.optim.Adam, ADAM), ("adamw", torch.optim.AdamW, ADAMW)),
                extra=None):
    """Run one module case and write outdir/case.safetensors.

    build() -> module (perturbed here); make_inputs() -> {name: tensor}
    (float inputs get requires_grad); forward(module, inputs) -> {name: tensor}.
    Loss = sum over loss_outputs of (output * upstream).sum().
    extra(module, inputs, outputs) may return more tensors to store.
    """
    seed(case)
    m = build()
    perturb(m)
    sd_keys = list(m.state_dict().keys())
    params0 = {k: v.detach().clone() for k, v in m.named_parameters()}
    assert sorted(params0) == sorted(sd_keys), (case, sd_keys, list(params0))
    inputs = make_inputs()
    for k, v in inputs.items():
        if v.is_floating_point() and not k.endswith("mask"):
            v.requires_grad_(True)
    outs = forward(m, inputs)
    ups = {k: torch.randn_like(outs[k]) for k in loss_outputs}
    loss = sum((outs[k] * ups[k]).sum() for k in loss_outputs)
    loss.backward()

    t = {}
    for k, v in inputs.items():
        t["input." + k] = v.detach()
        if v.requires_grad:
            t["grad.input." + k] = v.grad.detach()
    for k, v in params0.items():
        t["param." + k] = v
    for k, v in outs.items():
        t["output." + k] = v.detach()
    for k, v in ups.items():
        t["upstream." + k] = v
    cur = {k: p.detach().clone() for k, p in m.named_parameters()}
    grads = {k: p.grad.detach() for k, p in m.named_parameters()}
    for k, g in grads.items():
        t["grad.param." + k] = g
    if extra is not None:
        t.update(extra(m, inputs, outs))
    hps = {}
    if params0:
        for prefix, cls, hp in optimizers:
            for k, v in optim_step(cls, hp, cur, grads).items():
                t[prefix + ".param." + k] = v
            hps[prefix] = hp
    write(outdir, case, t, meta(case, generator, config, **hps))
    return t


def write(outdir, case, tensors, metadata):
    for k, v in tensors.items():
        assert v.dtype in (torch.float32, torch.int64, torch.bool), (case, k, v.dtype)
        if v.is_floating_point():
            assert torch.isfinite(v).all() or k.endswith("mask"), (case, k)
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, case + ".safetensors")
    stio.save(path, tensors, metadata)
    print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")
