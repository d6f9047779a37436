package kernels

// Pure-Go elementwise kernels. Every product that is followed by an addition
// is written with an explicit float32 conversion or fma32, because Go may
// fuse a bare a*b+c into an FMA on some platforms and not others.

func reluGeneric(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		if 0 > x {
			x = 0
		}
		dst[i] = x
	}
}

func reluBackwardGeneric(dx, x, dy []float32) {
	x, dy = x[:len(dx)], dy[:len(dx)]
	for i, v := range x {
		g := float32(0)
		if v > 0 {
			g = dy[i]
		}
		dx[i] = g
	}
}

func addGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func subGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

func mulGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = float32(a[i] * b[i])
	}
}

func scaleGeneric(dst, src []float32, alpha float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = float32(alpha * x)
	}
}

func axpyGeneric(alpha float32, x, y []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] = fma32(alpha, v, y[i])
	}
}
