#!/usr/bin/python3
"""Go -> PyTorch check: load a Go-written SimpleTransformerClassifier into the tutorial's
PyTorch class and compare its logits with the logits Go computed.

usage: /usr/bin/python3 scripts/torch_load_check.py MODEL.safetensors LOGITS.safetensors [--atol 1e-4]
                                                   [--num-heads H]

MODEL holds exactly the classifier's state_dict keys (no prefix): embedding.weight,
transformer_blocks.{i}.attn.in_proj_weight, ..., classifier.weight, classifier.bias. Its
__metadata__ must give num_heads (or pass --num-heads); vocab_size, embed_dim, ff_dim,
num_classes and num_blocks are read from the metadata when present, otherwise inferred from shapes.
LOGITS holds `ids` (B,L) (I64, or F32 holding integers) and `logits` (B,num_classes), computed by Go
in eval mode. Exit status: 0 when max |torch - go| <= atol, 1 when larger, 2 on bad input.
"""

import argparse
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402
from tutorial import SimpleTransformerClassifier  # noqa: E402


def fail(msg):
    print("torch_load_check: " + msg, file=sys.stderr)
    sys.exit(2)


def config_from(tensors, meta, num_heads):
    def get(key, inferred):
        if key in meta:
            return int(meta[key])
        return inferred

    try:
        vocab, embed = tensors["embedding.weight"].shape
        ff = tensors["transformer_blocks.0.ff.0.weight"].shape[0]
        classes = tensors["classifier.weight"].shape[0]
    except KeyError as e:
        fail(f"model file lacks {e}")
    blocks = 1 + max(int(m.group(1)) for k in tensors
                     for m in [re.match(r"transformer_blocks\.(\d+)\.", k)] if m)
    heads = num_heads if num_heads is not None else meta.get("num_heads")
    if heads is None:
        fail("num_heads is neither in the model's __metadata__ nor given with --num-heads")
    return dict(vocab_size=get("vocab_size", vocab), embed_dim=get("embed_dim", embed),
                num_heads=int(heads), ff_dim=get("ff_dim", ff), num_classes=get("num_classes", classes),
                num_blocks=get("num_blocks", blocks))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("logits")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--num-heads", type=int, default=None)
    args = ap.parse_args()

    try:
        tensors, meta = stio.load(args.model)
        data, _ = stio.load(args.logits)
    except (OSError, ValueError, KeyError) as e:
        fail(str(e))
    cfg = config_from(tensors, meta, args.num_heads)
    print("config:", cfg)
    torch.manual_seed(0)
    model = SimpleTransformerClassifier(**cfg)
    state = {k: v.float() for k, v in tensors.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        fail(f"load_state_dict: {e}")
    model.eval()

    if "ids" not in data or "logits" not in data:
        fail("logits file must hold `ids` and `logits`")
    ids = data["ids"]
    if ids.is_floating_point():
        if not torch.equal(ids, ids.round()):
            fail("ids are not integers")
        ids = ids.long()
    ids = ids.long()
    go = data["logits"].float()
    with torch.no_grad():
        ref = model(ids)
    if ref.shape != go.shape:
        fail(f"logits shape: torch {tuple(ref.shape)}, go {tuple(go.shape)}")
    diff = (ref - go).abs().max().item() if ref.numel() else 0.0
    torch.set_printoptions(precision=6)
    print("torch logits:\n", ref)
    print("go logits:\n", go)
    print(f"max abs diff: {diff:.3e} (atol {args.atol:g})")
    if not diff <= args.atol:
        print("FAIL")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
