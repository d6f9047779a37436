package kernels

import (
	"fmt"
	"math"
)

func layerNormRowGeneric(dst, src, gamma, beta []float32, eps float32) (mean, rstd float32) {
	src = src[:len(dst)]
	n := float32(len(src))
	mean = sumGeneric(src) / n
	var acc [32]float32
	for j, x := range src {
		d := x - mean
		acc[j&31] = fma32(d, d, acc[j&31])
	}
	v := tree32(&acc) / n
	rstd = 1 / float32(math.Sqrt(float64(v+eps)))
	for j, x := range src {
		t := float32((x - mean) * rstd)
		switch {
		case gamma == nil:
			dst[j] = t
		case beta == nil:
			dst[j] = float32(t * gamma[j])
		default:
			dst[j] = fma32(t, gamma[j], beta[j])
		}
	}
	return mean, rstd
}

func layerNormBackwardRowGeneric(dx, dgamma, dbeta, dy, src, gamma []float32, mean, rstd float32) {
	dy, src = dy[:len(dx)], src[:len(dx)]
	n := float32(len(src))
	var a, b [32]float32
	for j, x := range src {
		t := float32((x - mean) * rstd)
		g := dy[j]
		if gamma != nil {
			g = float32(g * gamma[j])
		}
		a[j&31] = a[j&31] + g
		b[j&31] = fma32(g, t, b[j&31])
		if dgamma != nil {
			dgamma[j] = fma32(dy[j], t, dgamma[j])
		}
		if dbeta != nil {
			dbeta[j] = dbeta[j] + dy[j]
		}
	}
	ma := tree32(&a) / n
	mb := tree32(&b) / n
	for j, x := range src {
		t := float32((x - mean) * rstd)
		g := dy[j]
		if gamma != nil {
			g = float32(g * gamma[j])
		}
		dx[j] = float32(fma32(-t, mb, g-ma) * rstd)
	}
}

// LayerNorm normalizes each of the rows of src (rows×cols) over its cols
// values: y = (x − mean)/sqrt(var + eps) · gamma + beta with the biased
// variance, like torch.nn.LayerNorm over the last dimension. gamma == nil
// means no affine transform (beta must then be nil too); beta == nil with a
// gamma means no bias. mean and rstd (1/sqrt(var+eps)), when not nil,
// receive each row's statistics for LayerNormBackward. dst may alias src.
func LayerNorm(dst, mean, rstd, src, gamma, beta []float32, rows, cols int, eps float32) {
	size := checkMatrix("LayerNorm", rows, cols)
	checkLenN("LayerNorm", "dst", len(dst), size, rows, cols)
	checkLenN("LayerNorm", "src", len(src), size, rows, cols)
	checkVec("LayerNorm", "mean", mean, rows, true)
	checkVec("LayerNorm", "rstd", rstd, rows, true)
	checkVec("LayerNorm", "gamma", gamma, cols, true)
	checkVec("LayerNorm", "beta", beta, cols, true)
	if gamma == nil && beta != nil {
		panic("kernels: LayerNorm: beta without gamma")
	}
	if !(eps >= 0) {
		panic(fmt.Sprintf("kernels: LayerNorm: eps=%v must be >= 0", eps))
	}
	if cols == 0 {
		return
	}
	raceRW(dst, src)
	raceWrite(mean)
	raceWrite(rstd)
	raceRead(gamma)
	raceRead(beta)
	b := cur()
	for r := 0; r < rows; r++ {
		s := r * cols
		mu, rs := b.layerNormRow(dst[s:s+cols], src[s:s+cols], gamma, beta, eps)
		if mean != nil {
			mean[r] = mu
		}
		if rstd != nil {
			rstd[r] = rs
		}
	}
}

// LayerNormBackward computes the gradients of LayerNorm from the upstream
// gradient dy, the forward input src and the saved mean and rstd: dx is
// overwritten; dgamma and dbeta (each nil allowed, e.g. without affine) are
// accumulated (+=), rows in order. gamma is the forward's gamma (nil = no
// affine). dx may alias dy.
func LayerNormBackward(dx, dgamma, dbeta, dy, src, mean, rstd, gamma []float32, rows, cols int) {
	size := checkMatrix("LayerNormBackward", rows, cols)
	checkLenN("LayerNormBackward", "dx", len(dx), size, rows, cols)
	checkLenN("LayerNormBackward", "dy", len(dy), size, rows, cols)
	checkLenN("LayerNormBackward", "src", len(src), size, rows, cols)
	checkVec("LayerNormBackward", "mean", mean, rows, false)
	checkVec("LayerNormBackward", "rstd", rstd, rows, false)
	checkVec("LayerNormBackward", "gamma", gamma, cols, true)
	checkVec("LayerNormBackward", "dgamma", dgamma, cols, true)
	checkVec("LayerNormBackward", "dbeta", dbeta, cols, true)
	if cols == 0 {
		return
	}
	raceRW(dx, dy)
	raceWrite(dgamma)
	raceWrite(dbeta)
	raceRead(src)
	raceRead(gamma)
	raceRead(mean)
	raceRead(rstd)
	b := cur()
	for r := 0; r < rows; r++ {
		s := r * cols
		b.layerNormBackwardRow(dx[s:s+cols], dgamma, dbeta, dy[s:s+cols], src[s:s+cols], gamma, mean[r], rstd[r])
	}
}
