"""Golden files for the BERT loader (transformer.LoadBERT / LoadBERTClassifier).

Debian's PyTorch ships without the `transformers` package, so this file holds a
small PyTorch module that mirrors Hugging Face's BertModel and
BertForSequenceClassification (modeling_bert.py): the same submodule and
parameter names (so its state_dict has the Hugging Face keys), the same
operations in the same order:

  embeddings = LayerNorm(word[ids] + token_type[types] + position[pos]); dropout
  per layer:   q, k, v = Linear(h); scores = q·kᵀ/sqrt(head) + (1 - mask)·finfo.min
               probs = dropout(softmax(scores)); ctx = probs·v
               h = LayerNorm(dropout(dense(ctx)) + h)
               h = LayerNorm(dropout(dense2(act(dense1(h)))) + h)
  pooler:      tanh(dense(h[:, 0]))
  classifier:  Linear(dropout(pooled))

Each case writes a Hugging Face directory testdata/bert/<case>/ (config.json and
model.safetensors, as save_pretrained lays them out) and
testdata/bert/<case>/golden.safetensors with the inputs, the eval outputs, the
loss, every parameter's gradient and the parameters after one AdamW step.

Run from the repository root: /usr/bin/python3 scripts/golden_bert.py

Checking what the Go side writes (testdata/bert/saved_by_go, written by
SaveBERT / SaveBERTClassifier in TestBERTSaveRoundTrip -update-bert):

    /usr/bin/python3 scripts/golden_bert.py --check testdata/bert/saved_by_go/model model_gelu_new_noprefix
    /usr/bin/python3 scripts/golden_bert.py --check testdata/bert/saved_by_go/classifier classifier_relu

loads the directory strictly into the mirror module (every key, no other)
and compares its eval outputs with the case's golden ones.

Timing one training step beside the Go benchmark (BenchmarkBERTTrainStep):

    /usr/bin/python3 scripts/golden_bert.py --bench [layers]

times forward + backward + AdamW of a BERT-base-shaped classifier (hidden
768, 12 heads, FFN 3072, vocab 30522; 12 layers unless given) on batch 8 ×
seq 128, one thread.
"""

import json
import math
import os
import sys
import time
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stio  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

OUT = "testdata/bert"
ADAMW = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def act_fn(name):
    if name == "gelu":
        return lambda x: F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu
    raise ValueError(name)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        e = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(e))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, ext_mask):
        b, s, h = x.shape
        d = h // self.heads

        def split(t):
            return t.view(b, s, self.heads, d).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + ext_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, h)
        return ctx


class SelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, inp):
        return self.LayerNorm(self.dropout(self.dense(x)) + inp)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = SelfOutput(c)

    def forward(self, x, ext_mask):
        return self.output(self.self(x, ext_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = act_fn(c["hidden_act"])

    def forward(self, x):
        return self.act(self.dense(x))


class Output(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, inp):
        return self.LayerNorm(self.dropout(self.dense(x)) + inp)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = Output(c)

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, ext_mask):
        for l in self.layer:
            x = l(x, ext_mask)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids, types, mask):
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        h = self.encoder(self.embeddings(ids, types), ext)
        return h, self.pooler(h)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        p = c["classifier_dropout"]
        self.dropout = nn.Dropout(c["hidden_dropout_prob"] if p is None else p)
        self.classifier = nn.Linear(c["hidden_size"], c["num_labels"])

    def forward(self, ids, types, mask):
        h, pooled = self.bert(ids, types, mask)
        return h, pooled, self.classifier(self.dropout(pooled))


def hf_config(c, classifier):
    cfg = {
        "attention_probs_dropout_prob": c["attention_probs_dropout_prob"],
        "classifier_dropout": c["classifier_dropout"],
        "hidden_act": c["hidden_act"],
        "hidden_dropout_prob": c["hidden_dropout_prob"],
        "hidden_size": c["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": c["intermediate_size"],
        "layer_norm_eps": c["layer_norm_eps"],
        "max_position_embeddings": c["max_position_embeddings"],
        "model_type": "bert",
        "num_attention_heads": c["num_attention_heads"],
        "num_hidden_layers": c["num_hidden_layers"],
        "pad_token_id": c["pad_token_id"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "type_vocab_size": c["type_vocab_size"],
        "use_cache": True,
        "vocab_size": c["vocab_size"],
    }
    if classifier:
        cfg["architectures"] = ["BertForSequenceClassification"]
        labels = c["labels"]
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}
        if c.get("write_num_labels"):
            cfg["num_labels"] = len(labels)
    else:
        cfg["architectures"] = ["BertModel"]
    return cfg


def perturb(m, gen):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def case(name, c, classifier, batch, lengths, pair_at=None, prefix=True, gamma_beta=False,
         position_ids_buffer=False, extra_keys=()):
    torch.manual_seed(zlib.crc32(name.encode()))
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    if classifier:
        c = dict(c, num_labels=len(c["labels"]))
        m = BertForSequenceClassification(c)
    else:
        m = BertModel(c)
    perturb(m, gen)
    m.eval()  # dropout off: the goldens are deterministic
    seq = max(lengths)
    ids = torch.randint(1, c["vocab_size"], (batch, seq), generator=gen)
    mask = torch.zeros(batch, seq, dtype=torch.bool)
    types = torch.zeros(batch, seq, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
        ids[b, n:] = c["pad_token_id"]
        if pair_at is not None and pair_at[b] < n:
            types[b, pair_at[b]:n] = 1
    params0 = {k: v.detach().clone() for k, v in m.named_parameters()}

    if classifier:
        h, pooled, logits = m(ids, types, mask)
        labels = torch.randint(0, c["num_labels"], (batch,), generator=gen)
        loss = F.cross_entropy(logits, labels)
    else:
        h, pooled = m(ids, types, mask)
        up_h = torch.randn(h.shape, generator=gen)
        up_p = torch.randn(pooled.shape, generator=gen)
        # padded positions' hidden states are not part of the loss (they are
        # HF's values but no user reads them)
        loss = (h * up_h * mask[:, :, None]).sum() + (pooled * up_p).sum()
    loss.backward()

    t = {"input.ids": ids, "input.token_types": types, "input.attention_mask": mask,
         "output.hidden": h.detach(), "output.pooled": pooled.detach(), "output.loss": loss.detach().reshape(1)}
    if classifier:
        t["output.logits"] = logits.detach()
        t["input.labels"] = labels
    else:
        t["upstream.hidden"] = up_h
        t["upstream.pooled"] = up_p
    for k, v in params0.items():
        t["param." + k] = v
    grads = {k: p.grad.detach().clone() for k, p in m.named_parameters()}
    for k, g in grads.items():
        t["grad.param." + k] = g
    opt = torch.optim.AdamW(m.parameters(), **ADAMW)
    opt.step()
    for k, p in m.named_parameters():
        t["adamw.param." + k] = p.detach().clone()

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(hf_config(c, classifier), f, indent=2, sort_keys=True)
        f.write("\n")
    # the checkpoint, keyed as save_pretrained writes it
    w = {}
    for k, v in params0.items():
        key = k
        if not classifier and prefix:
            key = "bert." + k
        if classifier and not prefix:
            key = k[len("bert."):] if k.startswith("bert.") else k
        if gamma_beta:
            key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        w[key] = v
    if position_ids_buffer:
        pfx = "bert." if (classifier or prefix) else ""
        w[pfx + "embeddings.position_ids"] = torch.arange(c["max_position_embeddings"]).unsqueeze(0)
    for k, shape in extra_keys:
        w[k] = torch.zeros(shape)
    stio.save(os.path.join(d, "model.safetensors"), w, {"format": "pt"})
    meta = {"generator": "scripts/golden_bert.py", "torch": torch.__version__, "case": name,
            "adamw": json.dumps(ADAMW), "lengths": json.dumps(lengths)}
    stio.save(os.path.join(d, "golden.safetensors"), t, meta)
    print(f"{d}: {len(t)} golden tensors, weights {os.path.getsize(os.path.join(d, 'model.safetensors'))} bytes")


BASE = dict(vocab_size=101, hidden_size=30, num_attention_heads=3, num_hidden_layers=2, intermediate_size=37,
            max_position_embeddings=23, type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu",
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, classifier_dropout=None, pad_token_id=0)

def model_config(cfg):
    """The mirror's config dict from a Hugging Face config.json, as BertConfig reads it."""
    c = {k: cfg[k] for k in BASE if k in cfg}
    c.setdefault("classifier_dropout", None)
    if "id2label" in cfg:
        c["num_labels"] = len(cfg["id2label"])
    else:
        c["num_labels"] = cfg.get("num_labels", 2)
    return c


def check(d, name):
    """Load a directory written by the Go side into the mirror and compare with case name's goldens."""
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    c = model_config(cfg)
    classifier = cfg["architectures"] == ["BertForSequenceClassification"]
    m = (BertForSequenceClassification(c) if classifier else BertModel(c)).eval()
    st, meta = stio.load(os.path.join(d, "model.safetensors"))
    assert meta.get("format") == "pt", meta
    m.load_state_dict(st, strict=True)
    g, _ = stio.load(os.path.join(OUT, name, "golden.safetensors"))
    out = m(g["input.ids"].long(), g["input.token_types"].long(), g["input.attention_mask"].bool())
    names = ["hidden", "pooled", "logits"]
    for n, t in zip(names, out):
        diff = (t - g["output." + n]).abs().max().item()
        print(f"{d}: max |{n} - golden {name}| = {diff}")
        assert diff == 0, "the saved weights differ from the golden case's"


def bench(layers):
    """One training step of a BERT-base-shaped classifier, batch 8 x seq 128, one thread."""
    c = dict(BASE, vocab_size=30522, hidden_size=768, num_attention_heads=12, num_hidden_layers=layers,
             intermediate_size=3072, max_position_embeddings=512, num_labels=2)
    torch.manual_seed(0)
    m = BertForSequenceClassification(c).train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
    B, T = 8, 128
    ids = torch.randint(1, c["vocab_size"], (B, T))
    types = torch.zeros(B, T, dtype=torch.int64)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, 100:] = False
    labels = torch.randint(0, 2, (B,))

    def step():
        opt.zero_grad(set_to_none=False)
        _, _, logits = m(ids, types, mask)
        F.cross_entropy(logits, labels).backward()
        opt.step()

    step()
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(f"PyTorch {torch.__version__}, 1 thread: BERT-base-shaped training step ({layers} layers, batch {B} x seq {T}): "
          f"best {min(times) * 1e3:.0f} ms, median {sorted(times)[1] * 1e3:.0f} ms wall; "
          f"best {min(cpu) * 1e3:.0f} ms of CPU (compare with the Go benchmark's cpu-ns/op)")


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--check":
    check(sys.argv[2], sys.argv[3])
elif __name__ == "__main__" and len(sys.argv) in (2, 3) and sys.argv[1] == "--bench":
    bench(int(sys.argv[2]) if len(sys.argv) == 3 else 12)
elif __name__ == "__main__":
    # BertModel, "bert." prefix, padded batch (right padding), sentence pairs with token types
    case("model_gelu", BASE, False, 3, [11, 7, 4], pair_at=[6, 3, 9])
    # no prefix, gelu_new, one layer, old LayerNorm.gamma/beta names, a saved position_ids buffer
    case("model_gelu_new_noprefix", dict(BASE, hidden_act="gelu_new", num_hidden_layers=1, hidden_size=24,
                                        num_attention_heads=4, intermediate_size=29), False, 2, [9, 5],
         prefix=False, gamma_beta=True, position_ids_buffer=True)
    # classifier, 3 labels given by id2label only (what save_pretrained writes), relu, classifier_dropout set
    case("classifier_relu", dict(BASE, hidden_act="relu", classifier_dropout=0.2,
                                 labels=["go", "python", "c"]), True, 4, [10, 10, 6, 3], pair_at=[5, 8, 9, 9],
         position_ids_buffer=True)
    # classifier with num_labels written, 2 labels, pretraining heads present in the file (ignored)
    case("classifier_pretrain_keys", dict(BASE, labels=["neg", "pos"], write_num_labels=True), True, 2, [8, 5],
         extra_keys=[("cls.predictions.bias", (101,)), ("cls.seq_relationship.weight", (2, 30))])
