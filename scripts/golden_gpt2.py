#!/usr/bin/python3
"""Golden files for transformer.LoadGPT2/SaveGPT2: writes testdata/gpt2/.

Debian's PyTorch has no `transformers`, so GPT2 below is a small module written to
mirror transformers' GPT2LMHeadModel (modeling_gpt2.py, eager attention): Conv1D
layers (weight stored (in, out)), fused c_attn, causal mask by torch.where with
finfo.min, Hugging Face's additive attention_mask ((1 - mask) * finfo.min),
learned positions from position_ids, ln_f, a head tied to wte unless
tie_word_embeddings is false, and the shifted cross-entropy with ignore -100.

For each case it writes an HF-style directory testdata/gpt2/<case>/ (config.json,
model.safetensors) and testdata/gpt2/<case>.golden.safetensors: the inputs and, in
eval mode, the logits, the loss, gradients, parameters after one SGD and one AdamW
step (decay on Conv1D/lm_head weights only), and logits, loss and some gradients
of a left-padded batch with attention_mask and position_ids. Gradients and
parameters are stored under the model file's keys, in its layout.

Run from the repository root: /usr/bin/python3 scripts/golden_gpt2.py
Check a directory written by LM.SaveGPT2 (see transformer/gpt2_test.go):
    /usr/bin/python3 scripts/golden_gpt2.py --check testdata/gpt2/saved_by_go tiny
loads it strictly into the mirror module and compares its logits with the case's.
"""

import json
import math
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "gpt2"))
GEN = "scripts/golden_gpt2.py"


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: y = x·W + b with W of shape (in, out)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf).normal_(std=0.02))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        shape = x.shape[:-1] + (self.weight.shape[1],)
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(shape)


def act_fn(name):
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "gelu":
        return F.gelu
    if name == "relu":
        return F.relu
    raise ValueError(name)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, P = c["n_embd"], c["n_positions"]
        self.register_buffer("bias", torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P),
                             persistent=False)
        self.n_head, self.scale = c["n_head"], c.get("scale_attn_weights", True)
        self.c_attn, self.c_proj = Conv1D(3 * E, E), Conv1D(E, E)
        self.attn_dropout = nn.Dropout(c["attn_pdrop"])
        self.resid_dropout = nn.Dropout(c["resid_pdrop"])

    def heads(self, t):
        B, T, E = t.shape
        return t.view(B, T, self.n_head, E // self.n_head).permute(0, 2, 1, 3)

    def forward(self, x, attention_mask):
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)
        q, k, v = self.heads(q), self.heads(k), self.heads(v)
        w = torch.matmul(q, k.transpose(-1, -2))
        if self.scale:
            w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype)
        T = q.size(-2)
        causal = self.bias[:, :, :T, :T]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        if attention_mask is not None:
            w = w + attention_mask
        w = self.attn_dropout(F.softmax(w, dim=-1))
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous()
        a = a.view(a.shape[0], a.shape[1], -1)
        return self.resid_dropout(self.c_proj(a))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c["n_embd"]
        inner = c.get("n_inner") or 4 * E
        self.c_fc, self.c_proj = Conv1D(inner, E), Conv1D(E, inner)
        self.act = act_fn(c["activation_function"])
        self.dropout = nn.Dropout(c["resid_pdrop"])

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, eps = c["n_embd"], c["layer_norm_epsilon"]
        self.ln_1, self.attn = nn.LayerNorm(E, eps=eps), Attention(c)
        self.ln_2, self.mlp = nn.LayerNorm(E, eps=eps), MLP(c)

    def forward(self, x, attention_mask):
        x = x + self.attn(self.ln_1(x), attention_mask)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c["n_embd"]
        self.wte = nn.Embedding(c["vocab_size"], E)
        self.wpe = nn.Embedding(c["n_positions"], E)
        for e in (self.wte, self.wpe):
            e.weight.data.normal_(std=0.02)
        self.drop = nn.Dropout(c["embd_pdrop"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(E, eps=c["layer_norm_epsilon"])

    def forward(self, ids, attention_mask=None, position_ids=None):
        B, T = ids.shape
        if position_ids is None:
            position_ids = torch.arange(T).unsqueeze(0)
        if attention_mask is not None:
            attention_mask = attention_mask.view(B, 1, 1, T).to(torch.float32)
            attention_mask = (1.0 - attention_mask) * torch.finfo(torch.float32).min
        x = self.drop(self.wte(ids) + self.wpe(position_ids))
        for b in self.h:
            x = b(x, attention_mask)
        return self.ln_f(x)


class GPT2(nn.Module):
    """GPT2LMHeadModel: state_dict keys transformer.* and lm_head.weight."""

    def __init__(self, c):
        super().__init__()
        self.transformer = GPT2Model(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        if c.get("tie_word_embeddings", True):
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids, attention_mask=None, position_ids=None, labels=None):
        logits = self.lm_head(self.transformer(ids, attention_mask, position_ids))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[..., :-1, :].reshape(-1, logits.shape[-1]),
                                   labels[..., 1:].reshape(-1), ignore_index=-100)
        return logits, loss


def file_keys(model, prefix, tied):
    """{file key: parameter} as GPT2LMHeadModel.state_dict names them, minus the prefix."""
    out = {}
    for k, p in model.named_parameters():
        if k == "lm_head.weight" and tied:
            continue
        out[k if prefix else k.removeprefix("transformer.")] = p
    return out


def no_decay(key):
    return key.endswith(".bias") or ".ln_" in key or key.startswith(("ln_", "transformer.ln_")) or \
        key.split(".")[-2] in ("wte", "wpe")


def case(name, cfg, dtype="F32", prefix=False, buffers=False, head_in_file=False, full=True, batch=2, seq=7):
    torch.manual_seed(zlib.crc32(name.encode()))
    m = GPT2(cfg)
    with torch.no_grad():  # move LayerNorm and biases off their init values
        for mod in m.modules():
            for pn, p in mod.named_parameters(recurse=False):
                if isinstance(mod, nn.LayerNorm) and pn == "weight":
                    p.copy_(1 + 0.1 * torch.randn_like(p))
                elif pn.endswith("bias"):
                    p.add_(0.1 * torch.randn_like(p))
        if not cfg.get("tie_word_embeddings", True):
            m.lm_head.weight.normal_(std=0.02)
        tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
        for p in m.parameters():  # the file's precision is the model's
            p.copy_(p.to(tdt).to(torch.float32))
    m.eval()
    tied = cfg.get("tie_word_embeddings", True)
    keys = file_keys(m, prefix, tied)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    st = {k: p.detach().to(tdt) for k, p in keys.items()}
    if head_in_file:
        st["lm_head.weight"] = m.lm_head.weight.detach().to(tdt)
    if buffers:
        P = cfg["n_positions"]
        for i in range(cfg["n_layer"]):
            pre = ("transformer." if prefix else "") + f"h.{i}.attn."
            st[pre + "bias"] = torch.tril(torch.ones(P, P, dtype=torch.uint8)).view(1, 1, P, P)
            st[pre + "masked_bias"] = torch.tensor(-1e4)
    stio.save(os.path.join(d, "model.safetensors"), st, {"format": "pt"})

    V = cfg["vocab_size"]
    g = {}
    ids = torch.randint(0, V, (batch, seq))
    labels = ids.clone()
    labels[0, 2] = -100
    g["ids"], g["labels"] = ids.float(), labels.float()
    logits, loss = m(ids, labels=labels)
    g["logits"], g["loss"] = logits.detach(), loss.detach().reshape(1)
    if full:
        m.zero_grad()
        loss.backward()
        grads = {k: p.grad.detach().clone() for k, p in keys.items()}
        for k, v in grads.items():
            g["grad." + k] = v
        params = {k: p.detach().clone() for k, p in keys.items()}
        for k, p in params.items():
            g["sgd." + k] = p - 0.1 * grads[k]
        ps = {k: p.clone().requires_grad_(True) for k, p in params.items()}
        for k, p in ps.items():
            p.grad = grads[k].clone()
        opt = torch.optim.AdamW([
            {"params": [p for k, p in ps.items() if not no_decay(k)], "weight_decay": 0.1},
            {"params": [p for k, p in ps.items() if no_decay(k)], "weight_decay": 0.0}],
            lr=0.01, betas=(0.9, 0.999), eps=1e-8)
        opt.step()
        for k, p in ps.items():
            g["adamw." + k] = p.detach()

    # A left-padded batch: row 0 full, row 1 with 3 pads, row 2 with 5 pads.
    pb, pt = 3, seq + 2
    pids = torch.randint(0, V, (pb, pt))
    mask = torch.ones(pb, pt, dtype=torch.long)
    mask[1, :3] = 0
    mask[2, :5] = 0
    pos = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    # -100 at padding and at each row's first real token: Hugging Face would
    # predict that one from a padded position, whose hidden state is garbage.
    plabels = pids.masked_fill(mask == 0, -100)
    plabels[1, 3] = plabels[2, 5] = -100
    m.zero_grad()
    plog, ploss = m(pids, attention_mask=mask, position_ids=pos, labels=plabels)
    g["pad.ids"], g["pad.mask"], g["pad.pos"] = pids.float(), mask.float(), pos.float()
    g["pad.labels"], g["pad.logits"], g["pad.loss"] = plabels.float(), plog.detach(), ploss.detach().reshape(1)
    ploss.backward()
    first = "transformer.wte.weight" if prefix else "wte.weight"
    for k in (first, [k for k in keys if k.endswith("h.0.attn.c_attn.weight")][0]):
        g["pad.grad." + k] = keys[k].grad.detach().clone()
    meta = {"generator": GEN, "torch": torch.__version__, "case": name, "dtype": dtype}
    stio.save(os.path.join(OUT, name + ".golden.safetensors"), g, meta)
    print(name, "params", sum(p.numel() for p in keys.values()), "loss", float(loss))


BASE = {"vocab_size": 97, "n_embd": 36, "n_head": 3, "n_layer": 2, "n_positions": 29, "n_inner": None,
        "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.1, "embd_pdrop": 0.1,
        "attn_pdrop": 0.1, "initializer_range": 0.02, "bos_token_id": 96, "eos_token_id": 96,
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_ctx": 29,
        "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
        return
    # Old-style checkpoint: transformer. prefix, the causal-mask buffers, lm_head.weight present (tied).
    case("tiny", dict(BASE), prefix=True, buffers=True, head_in_file=True)
    case("untied", dict(BASE, n_inner=50, activation_function="gelu", tie_word_embeddings=False, n_layer=1,
                        layer_norm_epsilon=1e-6))
    case("noscale_f16", dict(BASE, scale_attn_weights=False, activation_function="gelu_pytorch_tanh", n_layer=1,
                             n_inner=40), dtype="F16", full=False)
    case("relu_bf16", dict(BASE, activation_function="relu", n_layer=1, n_inner=44, n_embd=30, n_head=5),
         dtype="BF16", full=False)


def check(d, name):
    """Load a SaveGPT2 directory into the mirror module and compare with case name's logits."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    m = GPT2(cfg).eval()
    st, meta = stio.load(os.path.join(d, "model.safetensors"))
    assert meta.get("format") == "pt", meta
    sd = {"transformer." + k if not k.startswith("lm_head.") else k: v for k, v in st.items()}
    if cfg.get("tie_word_embeddings", True):
        sd["lm_head.weight"] = sd["transformer.wte.weight"]
    m.load_state_dict(sd, strict=True)
    g, _ = stio.load(os.path.join(OUT, name + ".golden.safetensors"))
    logits, _ = m(g["ids"].long())
    diff = (logits - g["logits"]).abs().max().item()
    print(f"{d}: max |logits - golden {name}| = {diff}")
    assert diff == 0, diff


if __name__ == "__main__":
    main()
