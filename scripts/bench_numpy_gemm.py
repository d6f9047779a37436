# OpenBLAS SGEMM through Debian's numpy (python3-numpy), one thread: the OpenBLAS column of
# bench/peers/run.sh (which runs this script next to simdformer, gomlx/compute and gonum). Alone, from the
# repository root:
#   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/bench_numpy_gemm.py [rounds]
# For each shape of bench/peers (C = op(A)·op(B), m×n×k) it prints GFLOP (2mnk per call) per CPU-second of this
# process (time.process_time: robust to other processes sharing the cores) and wall-clock GFLOP/s, the median
# over `rounds` (default 5) interleaved rounds of at least 0.2 s each.
import sys
import time
import numpy as np

SHAPES = [  # m, n, k, A transposed, B transposed (same list and order as bench/peers/main.go)
    (512, 512, 512, False, False),
    (1024, 1024, 1024, False, False),
    (4096, 2048, 512, False, True),
    (4096, 512, 2048, False, False),
    (2048, 512, 4096, True, False),
    (40, 2048, 512, False, True),
    (40, 512, 2048, False, True),
    (40, 2048, 512, False, False),
    (40, 512, 2048, False, False),
    (1536, 512, 40, True, False),
    (128, 128, 64, False, True),
    (128, 64, 128, False, False),
]


def measure(f, min_time=0.2):
    f()
    n = 1
    while True:
        c, t = time.process_time(), time.perf_counter()
        for _ in range(n):
            f()
        wall = time.perf_counter() - t
        cpu = time.process_time() - c
        if wall >= min_time:
            return cpu / n, wall / n
        n = max(2 * n, int(n * 1.2 * min_time / max(wall, 1e-6)))


def name(m, n, k, ta, tb):
    op = {(False, False): "A·B", (False, True): "A·Bᵀ", (True, False): "Aᵀ·B", (True, True): "Aᵀ·Bᵀ"}[(ta, tb)]
    return f"{m}×{n}×{k} {op}"


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rng = np.random.default_rng(1)
    cases = []
    for m, n, k, ta, tb in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        aa, bb = (a.T if ta else a), (b.T if tb else b)
        cases.append((name(m, n, k, ta, tb), 2 * m * n * k, lambda aa=aa, bb=bb, c=c: np.matmul(aa, bb, out=c), [], []))
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}", file=sys.stderr)
        for _, work, f, cpus, walls in cases:
            cpu, wall = measure(f)
            cpus.append(work / max(cpu, 1e-9) / 1e9)
            walls.append(work / wall / 1e9)
    print(f"numpy {np.__version__}, OpenBLAS, 1 thread: GFLOP per CPU-second, median of {rounds} rounds "
          "(wall-clock GFLOP/s in brackets)")
    for nm, _, _, cpus, walls in cases:
        print(f"| {nm:24s} | {sorted(cpus)[len(cpus) // 2]:6.1f} ({sorted(walls)[len(walls) // 2]:6.1f}) |")


main()
