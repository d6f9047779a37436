#!/usr/bin/python3
"""Golden files for transformer.TorchDecoder: writes testdata/transformer/torch_decoder_*.safetensors.

Run from the repository root with Debian's PyTorch: /usr/bin/python3 scripts/golden_torch_decoder.py
Every file is documented in testdata/transformer/README.md, section "nn.TransformerDecoder" (keep the two in step).

Each case is PyTorch's
    nn.TransformerDecoder(nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout=0.1, activation,
        batch_first=True, norm_first), num_layers, norm=nn.LayerNorm(d_model) or None)
in eval mode, called as model(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)
(PyTorch 1.13 has no tgt_is_causal; the Go tests check that flag against the causal tgt_mask). Keys: input.tgt,
input.memory, the masks as input.<argument name>, param.<state_dict key>, output.y, upstream.y, grad.input.tgt,
grad.input.memory, grad.param.<key>.
"""

import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import goldenlib as gl  # noqa: E402

GEN = "scripts/golden_torch_decoder.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "transformer"))
D, HEADS, FF, N, T, S = 16, 4, 32, 2, 5, 6
MASKS = ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")


def causal(n):
    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def random_mask(*shape, p=0.25):
    """N(0,1) additive values with about p of them -inf, never a whole row (the last dim)."""
    m = torch.randn(*shape)
    drop = torch.rand(*shape) < p
    drop[..., 0] = False
    return m.masked_fill(drop, float("-inf"))


def padding(rows, cols, pads):
    m = torch.zeros(rows, cols, dtype=torch.bool)
    for r, c in pads:
        m[r, c] = True
    return m


def decoder_case(name, act, norm_first, layers, final_norm, make_masks, note):
    cfg = {"module": "TransformerDecoder", "d_model": D, "nhead": HEADS, "dim_feedforward": FF, "dropout": 0.1,
           "activation": act, "batch_first": True, "norm_first": norm_first, "layer_norm_eps": 1e-5,
           "num_layers": layers, "final_norm": final_norm, "mode": "eval", "masks": note}

    def build():
        layer = nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.1, activation=act, batch_first=True,
                                           norm_first=norm_first)
        norm = nn.LayerNorm(D) if final_norm else None
        return nn.TransformerDecoder(layer, layers, norm=norm).eval()

    def inputs():
        d = {"tgt": torch.randn(N, T, D), "memory": torch.randn(N, S, D)}
        d.update(make_masks())
        return d

    def forward(m, i):
        return {"y": m(i["tgt"], i["memory"], **{k: i[k] for k in MASKS if k in i})}

    gl.module_case(OUT, GEN, name, build, inputs, forward, cfg, ["y"], optimizers=())


def main():
    # Post-norm, ReLU, final norm: float causal tgt_mask, float memory_mask (T, S), bool padding of both.
    decoder_case("torch_decoder_post_relu", "relu", False, 2, True, lambda: {
        "tgt_mask": causal(T),
        "memory_mask": random_mask(T, S),
        "tgt_key_padding_mask": padding(N, T, [(1, 4), (1, 3)]),
        "memory_key_padding_mask": padding(N, S, [(0, 5), (0, 4), (1, 2)]),
    }, "float causal tgt_mask (T,T); float memory_mask (T,S) with -inf; bool key padding masks")
    # Pre-norm, GELU, no final norm: boolean masks (True = not allowed).
    decoder_case("torch_decoder_pre_gelu", "gelu", True, 2, False, lambda: {
        "tgt_mask": torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1),
        "memory_mask": padding(T, S, [(0, 1), (2, 0), (2, 5), (4, 3)]),
        "memory_key_padding_mask": padding(N, S, [(1, 5)]),
    }, "bool causal tgt_mask; bool memory_mask (T,S); bool memory_key_padding_mask")
    # One post-norm GELU layer and a final norm: per batch-and-head float masks (index b*H + h).
    decoder_case("torch_decoder_masks3d", "gelu", False, 1, True, lambda: {
        "tgt_mask": causal(T).expand(N * HEADS, T, T) + random_mask(N * HEADS, T, T, p=0),
        "memory_mask": random_mask(N * HEADS, T, S),
        "tgt_key_padding_mask": padding(N, T, [(0, 4)]),
    }, "float tgt_mask (N*H,T,T) causal + N(0,1); float memory_mask (N*H,T,S) with -inf; bool tgt_key_padding_mask")


if __name__ == "__main__":
    main()
