package kernels

import "math"

// The fixed 32-lane reduction layout (CANONICAL.md): element i accumulates
// into lane i%32 in index order; the lanes are then folded by a fixed tree
// (j += j+16, j += j+8, +4, +2, +1). SIMD backends hold the 32 lanes in 2 ZMM,
// 4 YMM or 8 Q registers and compute the same bits.

// tree32 folds the 32 lanes of acc by the canonical tree and returns lane 0.
func tree32(acc *[32]float32) float32 {
	for w := 16; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			acc[j] = acc[j] + acc[j+w]
		}
	}
	return acc[0]
}

// sumGeneric is sum32: the canonical sum of x.
func sumGeneric(x []float32) float32 {
	var acc [32]float32
	for i, v := range x {
		acc[i&31] = acc[i&31] + v
	}
	return tree32(&acc)
}

// dotGeneric is dot32: lane l accumulates fma(x[i], y[i], acc[l]).
func dotGeneric(x, y []float32) float32 {
	var acc [32]float32
	y = y[:len(x)]
	for i, v := range x {
		acc[i&31] = fma32(v, y[i], acc[i&31])
	}
	return tree32(&acc)
}

// maxGeneric returns the largest element (NaN if any element is NaN, -Inf
// for an empty slice). Lane op: m = (v > m) ? v : m; the tree keeps the
// lower lane on ties, which fixes the sign of a zero result.
func maxGeneric(x []float32) float32 {
	var m [32]float32
	ninf := float32(math.Inf(-1))
	for l := range m {
		m[l] = ninf
	}
	nan := false
	for i, v := range x {
		if v > m[i&31] {
			m[i&31] = v
		}
		if v != v {
			nan = true
		}
	}
	for w := 16; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			if m[j+w] > m[j] {
				m[j] = m[j+w]
			}
		}
	}
	if nan {
		return float32(math.NaN())
	}
	return m[0]
}
