#!/usr/bin/python3
"""PyTorch peer of transformer's BenchmarkGPT2SmallTrainStep: one AdamW training
step of a randomly initialised GPT-2 small (124M parameters) on B=4 sequences of
T=64 tokens, one thread.

The model is golden_gpt2.py's mirror of Hugging Face's GPT2LMHeadModel (Conv1D
layers, fused c_attn, tanh GELU, tied head, every dropout 0.1, training mode),
the loss its shifted cross-entropy over the 50257-token vocabulary, the optimizer
torch.optim.AdamW(lr 6e-4) with weight decay 0.1 on the Conv1D weights and none
on biases, LayerNorms and embeddings (the Go benchmark's optim.DecayGroups).
A step is zero_grad(), forward + loss, backward(), step(); the first step is a
warm-up (it allocates AdamW's moments). Prints ms/step (median and min of the
timed steps, wall time and the process's CPU time: on a shared machine the
CPU time is the steadier one) and the process's peak RSS (ru_maxrss), to
compare with the Go benchmark's ns/op, cpu-ns/op and peak-rss-MB.

Run from the repository root with Debian's PyTorch 1.13:

    /usr/bin/python3 scripts/bench_torch_gpt2_step.py
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/bin/python3 scripts/bench_torch_gpt2_step.py

(jemalloc: apt-get install -y libjemalloc2; glibc malloc returns the large
activation and gradient buffers to the kernel every step, and the page faults
that follow dominate PyTorch's step time. When a step takes longer than
jemalloc's 10 s page decay, on a loaded machine, jemalloc returns them too:
MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 keeps them, at a higher peak
RSS.) Debian's PyTorch multiplies through OpenBLAS: an OPENBLAS_CORETYPE left
in the environment (golden reproduction sets one) pins its kernels; unset it
(env -u OPENBLAS_CORETYPE ...) for OpenBLAS's own choice on this CPU.
Options: --steps N (timed steps, default 5), --threads N (default 1).
"""

import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_gpt2  # noqa: E402  (the GPT2LMHeadModel mirror)

# golden_gpt2 asks for deterministic algorithms for its goldens; a benchmark
# runs PyTorch's defaults.
torch.use_deterministic_algorithms(False)

CONFIG = {
    "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
    "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1, "tie_word_embeddings": True,
}
B, T = 4, 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    m = golden_gpt2.GPT2(CONFIG)
    m.train()
    decay, none = [], []
    for k, p in m.named_parameters():
        (none if golden_gpt2.no_decay(k) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": none, "weight_decay": 0.0}], lr=6e-4)
    ids = (torch.arange(B * T) * 7919 + 13).remainder(CONFIG["vocab_size"]).view(B, T)

    def step():
        opt.zero_grad()
        _, loss = m(ids, labels=ids)
        loss.backward()
        opt.step()
        return loss

    step()  # warm-up: AdamW's moments, allocator caches
    times, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    jemalloc = "jemalloc" in os.environ.get("LD_PRELOAD", "")
    nparams = sum(p.numel() for p in m.parameters())
    print(f"torch {torch.__version__} threads={a.threads} jemalloc={jemalloc} params={nparams} B={B} T={T}")
    print(f"ms/step median {1e3 * times[len(times) // 2]:.0f} min {1e3 * times[0]:.0f} "
          f"(CPU user+sys median {1e3 * cpu[len(cpu) // 2]:.0f} min {1e3 * cpu[0]:.0f}) "
          f"over {a.steps} steps; peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
