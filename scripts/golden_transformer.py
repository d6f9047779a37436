#!/usr/bin/python3
"""Golden files for package transformer: writes testdata/transformer/*.safetensors.

Run from the repository root with Debian's PyTorch: /usr/bin/python3 scripts/golden_transformer.py
Every file is documented in testdata/transformer/README.md (keep the two in step).
"""

import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenlib as gl  # noqa: E402
from tutorial import (MaskedTransformerBlock, SimpleTransformerClassifier,  # noqa: E402
                      TransformerBlock, causal_mask)

GEN = "scripts/golden_transformer.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "transformer"))
D, HEADS, FF = 16, 4, 32


def case(name, build, make_inputs, forward, config):
    def build_eval():
        return build().eval()
    return gl.module_case(OUT, GEN, name, build_eval, make_inputs, forward, config, ["y"], optimizers=())


def blocks():
    case("block", lambda: TransformerBlock(D, HEADS, FF), lambda: {"x": torch.randn(2, 5, D)},
         lambda m, i: {"y": m(i["x"])},
         {"module": "TransformerBlock", "embed_dim": D, "num_heads": HEADS, "ff_dim": FF, "dropout": 0.1,
          "mode": "eval"})
    case("blocks3", lambda: nn.Sequential(*[TransformerBlock(D, HEADS, FF) for _ in range(3)]),
         lambda: {"x": torch.randn(2, 5, D)}, lambda m, i: {"y": m(i["x"])},
         {"module": "Sequential(3 x TransformerBlock)", "embed_dim": D, "num_heads": HEADS, "ff_dim": FF,
          "dropout": 0.1, "num_blocks": 3, "mode": "eval"})
    case("masked_block", lambda: MaskedTransformerBlock(D, 2, FF),
         lambda: {"x": torch.randn(2, 6, D), "mask": causal_mask(6)},
         lambda m, i: {"y": m(i["x"], i["mask"])},
         {"module": "MaskedTransformerBlock", "embed_dim": D, "num_heads": 2, "ff_dim": FF, "dropout": 0.1,
          "mode": "eval", "mask": "causal triu(-inf, 1)"})


def encoder_layers():
    for act in ("relu", "gelu"):
        for nf in (False, True):
            name = f"encoder_layer_{act}_{'pre' if nf else 'post'}"
            cfg = {"module": "TransformerEncoderLayer", "d_model": D, "nhead": HEADS, "dim_feedforward": FF,
                   "dropout": 0.1, "activation": act, "batch_first": True, "norm_first": nf,
                   "layer_norm_eps": 1e-5, "mode": "eval"}
            case(name, lambda: nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.1, activation=act,
                                                          batch_first=True, norm_first=nf),
                 lambda: {"x": torch.randn(2, 5, D)}, lambda m, i: {"y": m(i["x"])}, cfg)

    def masked_inputs():
        kpm = torch.zeros(2, 5, dtype=torch.bool)
        kpm[1, 4] = True
        return {"x": torch.randn(2, 5, D), "src_mask": causal_mask(5), "src_key_padding_mask": kpm}
    cfg = {"module": "TransformerEncoderLayer", "d_model": D, "nhead": HEADS, "dim_feedforward": FF,
           "dropout": 0.1, "activation": "relu", "batch_first": True, "norm_first": False,
           "layer_norm_eps": 1e-5, "mode": "eval", "src_mask": "causal", "src_key_padding_mask": "batch 1 key 4"}
    case("encoder_layer_relu_post_masked",
         lambda: nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.1, activation="relu", batch_first=True),
         masked_inputs,
         lambda m, i: {"y": m(i["x"], src_mask=i["src_mask"], src_key_padding_mask=i["src_key_padding_mask"])},
         cfg)


def torch_encoder():
    """nn.TransformerEncoder: 2 post-norm GELU layers and a final LayerNorm, with a key-padding mask."""
    d, heads, ff, layers = 32, 4, 64, 2

    def build():
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu", layer_norm_eps=1e-5,
                                           batch_first=True, norm_first=False)
        return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d, eps=1e-5))

    def inputs():
        kpm = torch.zeros(2, 5, dtype=torch.bool)
        kpm[1, 3:] = True
        return {"x": torch.randn(2, 5, d), "src_key_padding_mask": kpm}

    def nograd(m, i, outs):
        # PyTorch's inference fast path (no grad, eval, key-padding mask):
        # nested tensors, zeros at the padded positions.
        with torch.no_grad():
            return {"output.y_nograd": m(i["x"].detach(), src_key_padding_mask=i["src_key_padding_mask"])}

    cfg = {"module": "TransformerEncoder(TransformerEncoderLayer)", "d_model": d, "nhead": heads,
           "dim_feedforward": ff, "dropout": 0.1, "activation": "gelu", "layer_norm_eps": 1e-5, "batch_first": True,
           "norm_first": False, "num_layers": layers, "norm": "LayerNorm(d_model)", "mode": "eval",
           "src_key_padding_mask": "batch 1 keys 3, 4"}
    gl.module_case(OUT, GEN, "torch_encoder", lambda: build().eval(), inputs,
                   lambda m, i: {"y": m(i["x"], src_key_padding_mask=i["src_key_padding_mask"])}, cfg, ["y"],
                   optimizers=(), extra=nograd)


CLASSIFIER = dict(vocab_size=50, embed_dim=D, num_heads=HEADS, ff_dim=FF, num_classes=5, num_blocks=2)


def classifier():
    name = "classifier"
    gl.seed(name)
    model = SimpleTransformerClassifier(**CLASSIFIER)
    gl.perturb(model)
    model.eval()
    ids = torch.randint(0, CLASSIFIER["vocab_size"], (4, 7))
    labels = torch.randint(0, CLASSIFIER["num_classes"], (4,))
    t = {"input.ids": ids, "input.labels": labels}
    keys = list(model.state_dict().keys())
    assert keys == [k for k, _ in model.named_parameters()], keys
    for k, v in model.named_parameters():
        t["param." + k] = v.detach().clone()
    hp = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    opt = torch.optim.Adam(model.parameters(), **hp)
    opt.zero_grad()
    logits = model(ids)
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward()
    t["output.logits"] = logits.detach()
    t["output.loss"] = loss.detach()
    for k, v in model.named_parameters():
        t["grad.param." + k] = v.grad.detach().clone()
    opt.step()
    for k, v in model.named_parameters():
        t["adam.param." + k] = v.detach().clone()
    cfg = dict(CLASSIFIER, module="SimpleTransformerClassifier", dropout=0.1, mode="eval",
               loss="CrossEntropyLoss(mean)")
    gl.write(OUT, name, t, gl.meta(name, GEN, cfg, optim=dict(hp, optimizer="Adam")))


def main():
    blocks()
    encoder_layers()
    classifier()
    torch_encoder()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT) if f.endswith(".safetensors"))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
