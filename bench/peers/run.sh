#!/usr/bin/env bash
# SGEMM side by side on one thread: simdformer (every kernels backend of this CPU), gomlx/compute (Go backend,
# AVX-512/AVX2 assembly), gonum and OpenBLAS (Debian's numpy), interleaved rounds, medians, ratios.
#
#   bench/peers/run.sh                        # every shape, 5 rounds (a few minutes)
#   bench/peers/run.sh -rounds 3 -filter 1024 # flags of bench/peers/main.go
#
# bench/peers is a module of its own and is NOT in the repository's go.work: gomlx/compute needs Go 1.27 with
# GOEXPERIMENT=simd (without the experiment it silently runs a pure-Go GEMM at ~1.5 GFLOP/s), and the library's
# toolchain is Go 1.26. The go command fetches go1.27.3 from the module proxy on first use (GOTOOLCHAIN).
# OpenBLAS needs python3-numpy (apt-get install python3-numpy); without it that column is left out.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd GOWORK=off
bin=$(mktemp -d)/peers
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root/bench/peers" && go build -o "$bin" .)
openblas=()
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE would override OpenBLAS's own CPU detection.
	openblas=(-openblas "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 $root/scripts/bench_numpy_gemm.py 1")
fi
cd "$root"
"$bin" "${openblas[@]}" "$@"
