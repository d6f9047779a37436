# PyTorch peer of `go test -run '^$' -bench MHATrain ./nn` (BenchmarkMHATrain): one training step
# of nn.MultiheadAttention(E=512, 8 heads, batch_first, dropout p) on a batch of 2, train mode,
# causal float attn_mask, need_weights=False, forward + out.sum().backward() into the parameters,
# one thread. Run from the repository root with Debian's PyTorch (not a pyenv shim):
#   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_torch_mha.py [L ...]
# (default L = 256 1024 2048). Prints, per step, the process CPU time (comparable to the Go
# benchmark's cpu-ms/op on a shared machine) and the wall time, medians of 5 repeats, and the
# size of one copy of the N·H·L·S probabilities PyTorch 1.13's math path keeps for backward.
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(1)
N, E, H = 2, 512, 8


def bench(f, reps=5, min_time=0.5):
    """Median (cpu seconds, wall seconds) per call over reps repeats."""
    f()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            f()
        if time.perf_counter() - t >= min_time or n >= 8:
            break
        n *= 2
    cpu, wall = [], []
    for _ in range(reps):
        c, t = time.process_time(), time.perf_counter()
        for _ in range(n):
            f()
        cpu.append((time.process_time() - c) / n)
        wall.append((time.perf_counter() - t) / n)
    cpu.sort()
    wall.sort()
    return cpu[len(cpu) // 2], wall[len(wall) // 2]


print("torch", torch.__version__, "threads", torch.get_num_threads())
for L in [int(a) for a in sys.argv[1:]] or [256, 1024, 2048]:
    x = torch.randn(N, L, E)
    mask = torch.triu(torch.full((L, L), float("-inf")), diagonal=1)
    for p in (0.0, 0.1):
        m = torch.nn.MultiheadAttention(E, H, dropout=p, batch_first=True)
        m.train()

        def step():
            m.zero_grad(set_to_none=False)
            out, _ = m(x, x, x, attn_mask=mask, need_weights=False)
            out.sum().backward()

        cpu, wall = bench(step)
        print(f"L={L:5d} p={p:<4} {cpu * 1e3:9.1f} cpu-ms/step {wall * 1e3:9.1f} ms/step"
              f"  (probabilities: {N * H * L * L * 4 / 1e6:.0f} MB per copy)")
