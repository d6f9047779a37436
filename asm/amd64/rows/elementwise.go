package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// elementwise emits a kernel dst[j] = body(ins[0][j], ins[1][j], ...) over
// n = len(out) elements, unroll vectors per iteration, with a masked tail.
// body gets one group per input (x[input][vector]) and returns the output
// group; full blocks call it on groups of `group` vectors (interleaved
// chains), the masked tail on single vectors. setup runs once at function
// entry (preloads, parameter broadcasts).
func (t *tier) elementwise(base, sig, doc string, ins []string, out string, unroll, group int,
	setup func(), body func(x []grp) grp) {
	t.text(base, sig, doc)
	n := length(out)
	as := make([]arr, len(ins))
	for j, name := range ins {
		as[j] = t.arrF32(name)
	}
	dst := t.arrF32(out)
	if setup != nil {
		setup()
	}
	i := GP64()
	run := func(vs []int, mk *mask) {
		xs := make([]grp, len(ins))
		for j, a := range as {
			for _, v := range vs {
				xs[j] = append(xs[j], t.load(t.at(a, i, v), mk))
			}
		}
		y := body(xs)
		for j, v := range vs {
			t.store(y[j], t.at(dst, i, v), mk)
		}
	}
	t.loopGroups(i, n, unroll, group, nil, run)
	t.ret()
}

// each adapts a one-vector body to elementwise's group interface.
func each(f func(x []VecVirtual) VecVirtual) func(x []grp) grp {
	return func(x []grp) grp {
		var out grp
		for j := range x[0] {
			v := make([]VecVirtual, len(x))
			for i := range x {
				v[i] = x[i][j]
			}
			out = append(out, f(v))
		}
		return out
	}
}

// mathGroup is how many vectors the exp-based elementwise kernels interleave.
// Measured on Zen 4: 2 is 6-11% faster than 1 on AVX2 (with the constants
// then all in memory, so that two chains fit in 16 YMM) and ~4% on AVX-512;
// 3 does not fit in the AVX-512 register file with the constants in
// registers.
const mathGroup = 2

func (t *tier) genElementwise() {
	un := "func(dst, src []float32)"
	bin := "func(dst, a, b []float32)"
	grad := "func(dx, x, dy []float32)"
	src, ab, xdy := []string{"src"}, []string{"a", "b"}, []string{"x", "dy"}

	t.elementwise("Exp", un, "sets dst[j] = exp(src[j]) (the canonical exp).", src, "dst", 4, mathGroup,
		t.preloadExp, func(x []grp) grp { return t.exp(x[0]) })

	var zero VecVirtual
	t.elementwise("ReLU", un, "sets dst[j] = (0 > src[j]) ? +0 : src[j].", src, "dst", 4, 1,
		func() { zero = t.zero() },
		each(func(x []VecVirtual) VecVirtual {
			// VMAXPS: (src1 > src2) ? src1 : src2 with src1 = 0, src2 = x.
			VMAXPS(x[0], zero, x[0])
			return x[0]
		}))
	t.elementwise("ReLUBackward", grad, "sets dx[j] = (x[j] > 0) ? dy[j] : +0.", xdy, "dx", 4, 1,
		func() { zero = t.zero() },
		each(func(x []VecVirtual) VecVirtual {
			if t.z {
				k := K()
				VCMPPS(U8(1), x[0], zero, k) // 0 < x
				VMOVAPS_Z(x[1], k, x[1])
			} else {
				m := t.V()
				VCMPPS(U8(1), x[0], zero, m) // 0 < x
				VANDPS(m, x[1], x[1])
			}
			return x[1]
		}))

	t.elementwise("GELU", un, "sets dst[j] = src[j]·Φ(src[j]) (erf form).", src, "dst", 4, mathGroup,
		t.preloadGELU, func(x []grp) grp { return t.gelu(x[0]) })
	t.elementwise("GELUBackward", grad, "sets dx[j] = dy[j]·GELU'(x[j]) (erf form).", xdy, "dx", 4, mathGroup,
		t.preloadGELU, func(x []grp) grp { return t.geluGrad(x[0], x[1]) })
	t.elementwise("GELUTanh", un, "sets dst[j] = GELU(src[j]) (tanh approximation).", src, "dst", 4, mathGroup,
		t.preloadGELUTanh, func(x []grp) grp { return t.geluTanh(x[0]) })
	t.elementwise("GELUTanhBackward", grad, "sets dx[j] = dy[j]·GELUTanh'(x[j]).", xdy, "dx", 4, mathGroup,
		t.preloadGELUTanh, func(x []grp) grp { return t.geluTanhGrad(x[0], x[1]) })

	t.elementwise("Add", bin, "sets dst[j] = a[j] + b[j].", ab, "dst", 4, 1, nil,
		each(func(x []VecVirtual) VecVirtual { VADDPS(x[1], x[0], x[0]); return x[0] }))
	t.elementwise("Sub", bin, "sets dst[j] = a[j] - b[j].", ab, "dst", 4, 1, nil,
		each(func(x []VecVirtual) VecVirtual { VSUBPS(x[1], x[0], x[0]); return x[0] }))
	t.elementwise("Mul", bin, "sets dst[j] = a[j] * b[j].", ab, "dst", 4, 1, nil,
		each(func(x []VecVirtual) VecVirtual { VMULPS(x[1], x[0], x[0]); return x[0] }))

	var alpha VecVirtual
	t.elementwise("Scale", "func(dst, src []float32, alpha float32)", "sets dst[j] = alpha * src[j].",
		src, "dst", 4, 1, func() { alpha = t.paramF32("alpha") },
		each(func(x []VecVirtual) VecVirtual { VMULPS(x[0], alpha, x[0]); return x[0] }))
	t.elementwise("Axpy", "func(alpha float32, x, y []float32)", "sets y[j] = fma(alpha, x[j], y[j]).",
		[]string{"x", "y"}, "y", 4, 1, func() { alpha = t.paramF32("alpha") },
		each(func(x []VecVirtual) VecVirtual { VFMADD231PS(x[0], alpha, x[1]); return x[1] }))
}
