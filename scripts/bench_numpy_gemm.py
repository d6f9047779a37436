# OpenBLAS SGEMM through Debian's numpy (python3-numpy), one thread: the peer GEMM
# rows of docs/DESIGN.md ("How speed is measured"). Run from the repository root:
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_numpy_gemm.py
# Prints GFLOP/s (2mnk per call), median of 5 repeats of at least 0.2 s each, for the
# shapes of `go run ./bench -filter gemm` (A·B, and A·Bᵀ for the "gemm-nt" cases).
import time
import numpy as np

def bench(f, min_time=0.2, reps=5):
    f()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            f()
        if time.perf_counter() - t >= min_time:
            break
        n *= 2
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            f()
        times.append((time.perf_counter() - t) / n)
    times.sort()
    return times[len(times) // 2]

rng = np.random.default_rng(1)
print("numpy", np.__version__)
for m, n, k, nt in [(256, 256, 256, False), (512, 512, 512, False), (1024, 1024, 1024, False),
                    (40, 2048, 512, True), (40, 512, 2048, True), (4096, 2048, 512, True),
                    (128, 128, 64, True)]:
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if nt else (k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    bb = b.T if nt else b
    t = bench(lambda: np.matmul(a, bb, out=c))
    name = f"gemm{'-nt' if nt else ''}/{m}x{n}x{k}"
    print(f"{name:28s} {2 * m * n * k / t / 1e9:8.1f} GFLOP/s")
