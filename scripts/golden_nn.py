#!/usr/bin/python3
"""Golden files for package nn: writes testdata/nn/*.safetensors.

Run from the repository root with Debian's PyTorch: /usr/bin/python3 scripts/golden_nn.py
Every file is documented in testdata/nn/README.md (keep the two in step).
"""

import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenlib as gl  # noqa: E402

GEN = "scripts/golden_nn.py"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "nn")
OUT = os.path.normpath(OUT)


def case(name, build, make_inputs, forward, config, loss_outputs, **kw):
    return gl.module_case(OUT, GEN, name, build, make_inputs, forward, config, loss_outputs, **kw)


def single(fn):
    """forward for modules of one input named x and one output named y."""
    return lambda m, i: {"y": fn(m, i["x"])}


# ---------------------------------------------------------------- Linear
def linear():
    case("linear", lambda: nn.Linear(5, 4), lambda: {"x": torch.randn(2, 3, 5)},
         single(lambda m, x: m(x)), {"module": "Linear", "in_features": 5, "out_features": 4, "bias": True}, ["y"])
    case("linear_nobias", lambda: nn.Linear(5, 4, bias=False), lambda: {"x": torch.randn(3, 5)},
         single(lambda m, x: m(x)), {"module": "Linear", "in_features": 5, "out_features": 4, "bias": False}, ["y"])


# ---------------------------------------------------------------- LayerNorm
def ln_input():
    x = torch.randn(2, 3, 6) * (0.5 + 2 * torch.rand(2, 3, 1)) + 3 * torch.randn(2, 3, 1)
    x[0, 0] = 0.5 + 0.003 * torch.randn(6)
    return {"x": x}


def layernorm():
    for name, eps, affine in [("layernorm", 1e-5, True), ("layernorm_noaffine", 1e-5, False),
                              ("layernorm_eps1e-12", 1e-12, True)]:
        case(name, lambda: nn.LayerNorm(6, eps=eps, elementwise_affine=affine), ln_input,
             single(lambda m, x: m(x)),
             {"module": "LayerNorm", "normalized_shape": [6], "eps": eps, "elementwise_affine": affine}, ["y"])


# ---------------------------------------------------------------- Embedding
def embedding():
    case("embedding_padding", lambda: nn.Embedding(10, 4, padding_idx=1),
         lambda: {"ids": torch.tensor([[1, 3, 3, 7, 0], [9, 1, 2, 3, 5]])},
         lambda m, i: {"y": m(i["ids"])},
         {"module": "Embedding", "num_embeddings": 10, "embedding_dim": 4, "padding_idx": 1}, ["y"])

    def build_maxnorm():
        m = nn.Embedding(10, 4, max_norm=1.0)
        with torch.no_grad():
            m.weight[5] *= 0.2  # a looked-up row already inside the ball: left untouched
        return m

    def renormed(m, inputs, outs):
        return {"renormed.param.weight": m.weight.detach().clone()}

    t = case("embedding_maxnorm", build_maxnorm,
             lambda: {"ids": torch.tensor([[0, 2, 2, 5, 9], [4, 2, 7, 7, 1]])},
             lambda m, i: {"y": m(i["ids"])},
             {"module": "Embedding", "num_embeddings": 10, "embedding_dim": 4, "max_norm": 1.0, "norm_type": 2.0},
             ["y"], extra=renormed)
    assert t["renormed.param.weight"][5].norm() < 1 and torch.equal(t["renormed.param.weight"][5], t["param.weight"][5])
    assert not torch.equal(t["renormed.param.weight"][0], t["param.weight"][0])


# ---------------------------------------------------------------- MultiheadAttention
E, H, N, L = 8, 2, 2, 4


def mha_forward(m, i):
    q = i.get("x", i.get("query"))
    k = i.get("x", i.get("key"))
    v = i.get("x", i.get("value"))
    kw = dict(key_padding_mask=i.get("key_padding_mask"), attn_mask=i.get("attn_mask"), need_weights=True)
    out, w = m(q, k, v, average_attn_weights=True, **kw)
    with torch.no_grad():
        out2, wh = m(q, k, v, average_attn_weights=False, **kw)
    assert torch.equal(out, out2)
    return {"attn_output": out, "attn_weights": w.detach(), "attn_weights_per_head": wh}


def mha_case(name, inputs, bias=True, kdim=None, vdim=None, note=""):
    config = {"module": "MultiheadAttention", "embed_dim": E, "num_heads": H, "dropout": 0.0, "bias": bias,
              "kdim": kdim, "vdim": vdim, "batch_first": True, "need_weights": True, "note": note}
    t = case(name, lambda: nn.MultiheadAttention(E, H, dropout=0.0, bias=bias, kdim=kdim, vdim=vdim,
                                                 batch_first=True),
             inputs, mha_forward, config, ["attn_output"])
    for k in ("output.attn_weights", "output.attn_weights_per_head", "output.attn_output"):
        assert torch.isfinite(t[k]).all(), (name, k)


def self_x():
    return {"x": torch.randn(N, L, E)}


def with_(**extra):
    def f():
        d = self_x()
        d.update({k: v() for k, v in extra.items()})
        return d
    return f


def causal(n):
    return torch.triu(torch.ones(n, n) * float("-inf"), diagonal=1)


def mha():
    mha_case("mha_self", self_x)
    mha_case("mha_nobias", self_x, bias=False)

    def float_mask():
        m = torch.randn(L, L)
        for r, c in [(0, 2), (1, 0), (1, 3), (3, 1), (3, 3)]:
            m[r, c] = float("-inf")
        return m
    mha_case("mha_float_mask", with_(attn_mask=float_mask), note="float additive attn_mask (L,S)")

    def bool_mask():
        m = torch.zeros(L, L, dtype=torch.bool)
        for r, c in [(0, 1), (0, 3), (2, 0), (3, 2)]:
            m[r, c] = True
        return m
    mha_case("mha_bool_mask", with_(attn_mask=bool_mask), note="bool attn_mask (L,S), True = masked")

    def mask3d():
        m = torch.randn(N * H, L, L)
        drop = torch.rand(N * H, L, L) < 0.3
        drop &= ~torch.eye(L, dtype=torch.bool)  # keep the diagonal: no fully masked row
        return m.masked_fill(drop, float("-inf"))
    mha_case("mha_mask3d", with_(attn_mask=mask3d), note="float attn_mask (N*H,L,S), index b*H+h")

    mha_case("mha_causal", with_(attn_mask=lambda: causal(L)), note="causal float mask triu(-inf, 1)")

    def kpm():
        m = torch.zeros(N, L, dtype=torch.bool)
        m[0, 3] = True
        m[1, 2:] = True
        return m
    mha_case("mha_key_padding", with_(key_padding_mask=kpm), note="key_padding_mask (N,S), True = ignore")

    def kpm2():
        m = torch.zeros(N, L, dtype=torch.bool)
        m[1, 3] = True
        return m
    mha_case("mha_causal_key_padding", with_(attn_mask=lambda: causal(L), key_padding_mask=kpm2),
             note="causal float attn_mask and key_padding_mask")

    Lq, S = 3, 5
    mha_case("mha_cross_packed", lambda: {"query": torch.randn(N, Lq, E), "key": torch.randn(N, S, E),
                                          "value": torch.randn(N, S, E)}, note="cross-attention L=3, S=5")
    mha_case("mha_cross", lambda: {"query": torch.randn(N, Lq, E), "key": torch.randn(N, S, 6),
                                   "value": torch.randn(N, S, 5)}, kdim=6, vdim=5,
             note="cross-attention L=3, S=5, kdim=6, vdim=5")


# ---------------------------------------------------------------- activations
def act_input():
    x = torch.cat([torch.linspace(-6, 6, 40), torch.tensor([10.0, -10.0, 0.0, -0.0, 1e-4, -1e-4]),
                   torch.randn(18)])
    assert x.numel() == 64
    return {"x": x}


def activations():
    case("gelu", lambda: nn.GELU(), act_input, single(lambda m, x: m(x)),
         {"module": "GELU", "approximate": "none"}, ["y"])
    case("gelu_tanh", lambda: nn.GELU(approximate="tanh"), act_input, single(lambda m, x: m(x)),
         {"module": "GELU", "approximate": "tanh"}, ["y"])
    case("relu", lambda: nn.ReLU(), act_input, single(lambda m, x: m(x)), {"module": "ReLU"}, ["y"])


# ---------------------------------------------------------------- losses
def loss_case(name, loss_fn, make_inputs, config):
    gl.seed(name)
    inputs = make_inputs()
    first = next(iter(inputs))
    inputs[first].requires_grad_(True)
    grad_target = config["module"] == "MSELoss"
    if grad_target:
        inputs["target"].requires_grad_(True)
    out = loss_fn(inputs[first], inputs["target"])
    t = {"input." + k: v.detach() for k, v in inputs.items()}
    t["output.loss"] = out.detach()
    if out.dim() == 0:
        out.backward()
    else:
        up = torch.randn_like(out)
        t["upstream.loss"] = up
        (out * up).sum().backward()
    t["grad.input." + first] = inputs[first].grad.detach()
    if grad_target:
        t["grad.input.target"] = inputs["target"].grad.detach()
    gl.write(OUT, name, t, gl.meta(name, GEN, config))


def losses():
    C, NB = 5, 6
    for red in ("mean", "sum", "none"):
        loss_case(f"ce_index_{red}", nn.CrossEntropyLoss(reduction=red),
                  lambda: {"logits": torch.randn(NB, C) * 2, "target": torch.tensor([0, 3, 4, 1, 1, 2])},
                  {"module": "CrossEntropyLoss", "reduction": red, "label_smoothing": 0.0, "ignore_index": -100})
        loss_case(f"ce_index_smooth_ignore_{red}",
                  nn.CrossEntropyLoss(reduction=red, label_smoothing=0.1, ignore_index=-100),
                  lambda: {"logits": torch.randn(NB, C) * 2, "target": torch.tensor([0, -100, 4, 1, -100, 2])},
                  {"module": "CrossEntropyLoss", "reduction": red, "label_smoothing": 0.1, "ignore_index": -100})
        loss_case(f"ce_prob_{red}", nn.CrossEntropyLoss(reduction=red),
                  lambda: {"logits": torch.randn(NB, C) * 2, "target": torch.softmax(torch.randn(NB, C), dim=1)},
                  {"module": "CrossEntropyLoss", "reduction": red, "label_smoothing": 0.0, "target": "probabilities"})
        loss_case(f"mse_{red}", nn.MSELoss(reduction=red),
                  lambda: {"input": torch.randn(4, 3), "target": torch.randn(4, 3)},
                  {"module": "MSELoss", "reduction": red})
    loss_case("ce_prob_smooth_mean", nn.CrossEntropyLoss(reduction="mean", label_smoothing=0.2),
              lambda: {"logits": torch.randn(NB, C) * 2, "target": torch.softmax(torch.randn(NB, C), dim=1)},
              {"module": "CrossEntropyLoss", "reduction": "mean", "label_smoothing": 0.2, "target": "probabilities"})


# ---------------------------------------------------------------- MLP training
def mlp():
    opts = [
        ("mlp_adam", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
        ("mlp_adam_l2", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
        ("mlp_adamw", torch.optim.AdamW, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
        ("mlp_amsgrad", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                               amsgrad=True)),
    ]
    for name, cls, hp in opts:
        gl.seed("mlp")  # the same model and data in every file
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        gl.perturb(model)
        x = torch.randn(6, 4)
        target = torch.tensor([0, 2, 1, 1, 0, 2])
        t = {"input.x": x, "input.target": target}
        for k, v in model.named_parameters():
            t["param." + k] = v.detach().clone()
        opt = cls(model.parameters(), **hp)
        lossf = nn.CrossEntropyLoss()
        for step in (1, 2, 3):
            opt.zero_grad()
            loss = lossf(model(x), target)
            loss.backward()
            t[f"step{step}.loss"] = loss.detach().clone()
            for k, v in model.named_parameters():
                t[f"step{step}.grad.param.{k}"] = v.grad.detach().clone()
            opt.step()
            for k, v in model.named_parameters():
                t[f"step{step}.param.{k}"] = v.detach().clone()
        hpj = dict(hp, optimizer=cls.__name__)
        cfg = {"model": "Sequential(Linear(4,8), ReLU(), Linear(8,3))", "loss": "CrossEntropyLoss(mean)",
               "steps": 3}
        gl.write(OUT, name, t, gl.meta(name, GEN, cfg, optim=hpj))


def main():
    linear()
    layernorm()
    embedding()
    mha()
    activations()
    losses()
    mlp()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if f.endswith(".safetensors"))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
