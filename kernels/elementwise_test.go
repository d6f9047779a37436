package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ewCase describes an elementwise kernel for the cross-backend driver.
type ewCase struct {
	name string
	nin  int // float inputs
	// yInit: out has meaningful initial contents (Axpy's y), generated like
	// an input.
	yInit bool
	// call runs the kernel writing out from in.
	call func(out []float32, in [][]float32)
	// aliases lists the inputs out may be the same slice as (in-place use).
	aliases []int
	// gen makes one input of n values; nil means genDefault.
	gen func(r *rand.Rand, n int) []float32
}

// genDefault: N(0, 3²) with 10% special values and a few random bit patterns.
func genDefault(r *rand.Rand, n int) []float32 {
	x := randNormal(r, n, 0, 3)
	sprinkleSpecials(r, x, 0.1)
	for i := range x {
		if r.IntN(32) == 0 {
			x[i] = math.Float32frombits(r.Uint32())
		}
	}
	return x
}

// genWide: uniform on [-110, 110] (all of exp's regimes) with specials.
func genWide(r *rand.Rand, n int) []float32 {
	x := randFloats(r, n, -110, 110)
	sprinkleSpecials(r, x, 0.1)
	return x
}

// garbage is what a separate destination holds before the call, so an
// element a kernel forgets to write shows up as a mismatch.
const garbage = float32(-1234.5)

func ewCases() []ewCase {
	cs := []ewCase{
		{name: "Exp", nin: 1, call: func(o []float32, in [][]float32) { Exp(o, in[0]) }, aliases: []int{0}, gen: genWide},
		{name: "ReLU", nin: 1, call: func(o []float32, in [][]float32) { ReLU(o, in[0]) }, aliases: []int{0}},
		{name: "ReLUBackward", nin: 2, call: func(o []float32, in [][]float32) { ReLUBackward(o, in[0], in[1]) }, aliases: []int{0, 1}},
		{name: "GELU", nin: 1, call: func(o []float32, in [][]float32) { GELU(o, in[0]) }, aliases: []int{0}},
		{name: "GELUBackward", nin: 2, call: func(o []float32, in [][]float32) { GELUBackward(o, in[0], in[1]) }, aliases: []int{0, 1}},
		{name: "GELUTanh", nin: 1, call: func(o []float32, in [][]float32) { GELUTanh(o, in[0]) }, aliases: []int{0}},
		{name: "GELUTanhBackward", nin: 2, call: func(o []float32, in [][]float32) { GELUTanhBackward(o, in[0], in[1]) }, aliases: []int{0, 1}},
		{name: "Add", nin: 2, call: func(o []float32, in [][]float32) { Add(o, in[0], in[1]) }, aliases: []int{0, 1}},
		{name: "Sub", nin: 2, call: func(o []float32, in [][]float32) { Sub(o, in[0], in[1]) }, aliases: []int{0, 1}},
		{name: "Mul", nin: 2, call: func(o []float32, in [][]float32) { Mul(o, in[0], in[1]) }, aliases: []int{0, 1}},
	}
	for _, alpha := range []float32{0.7, -1, 0, float32(math.Copysign(0, -1)), 3e38, float32(math.Inf(1)), float32(math.NaN())} {
		alpha := alpha
		cs = append(cs,
			ewCase{name: fmt.Sprintf("Scale/alpha=%v", alpha), nin: 1, aliases: []int{0},
				call: func(o []float32, in [][]float32) { Scale(o, in[0], alpha) }},
			ewCase{name: fmt.Sprintf("Axpy/alpha=%v", alpha), nin: 1, yInit: true, aliases: []int{0},
				call: func(o []float32, in [][]float32) { Axpy(alpha, in[0], o) }},
		)
	}
	return cs
}

// alloc makes an operand initialised from x: a plain heap copy, or one
// placed by an arena.
type alloc func(x []float32) []float32

// runEW runs c once: inputs copied via mk, out separate (mode < 0) or the
// same slice as input mode. It returns out and the inputs after the call.
func runEW(c ewCase, mk alloc, ins [][]float32, y0 []float32, mode int) (out []float32, after [][]float32) {
	in := make([][]float32, len(ins))
	for i, x := range ins {
		in[i] = mk(x)
	}
	if mode >= 0 {
		out = in[mode]
	} else if c.yInit {
		out = mk(y0)
	} else {
		g := make([]float32, len(ins[0]))
		for i := range g {
			g[i] = garbage
		}
		out = mk(g)
	}
	c.call(out, in)
	return out, in
}

func TestElementwise(t *testing.T) {
	for _, c := range ewCases() {
		t.Run(c.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T) {
				gen := c.gen
				if gen == nil {
					gen = genDefault
				}
				for _, n := range testSizes {
					r := newRand(t, uint64(n))
					ins := make([][]float32, c.nin)
					for i := range ins {
						ins[i] = gen(r, n)
					}
					var y0 []float32
					if c.yInit {
						y0 = gen(r, n)
					}
					for _, mode := range append([]int{-1}, c.aliases...) {
						var want []float32
						reference(func() { want, _ = runEW(c, clone, ins, y0, mode) })
						forEachLayout(t, func(a *arena) {
							got, after := runEW(c, a.from, ins, y0, mode)
							what := fmt.Sprintf("n=%d %s alias=%d", n, a.l.name, mode)
							requireBitsEqual(t, what, got, want)
							for i := range ins {
								if i != mode {
									requireBitsEqual(t, fmt.Sprintf("%s: input %d changed", what, i), after[i], ins[i])
								}
							}
						})
					}
				}
			})
		})
	}
}

// TestElementwiseSpecials runs every elementwise kernel on every pair of
// special values (all combinations for the two-input kernels).
func TestElementwiseSpecials(t *testing.T) {
	var xs, ys []float32
	for _, a := range specialValues {
		for _, b := range specialValues {
			xs = append(xs, a)
			ys = append(ys, b)
		}
	}
	for _, c := range ewCases() {
		t.Run(c.name, func(t *testing.T) {
			ins := [][]float32{xs, ys}[:c.nin]
			var want []float32
			reference(func() { want, _ = runEW(c, clone, ins, ys, -1) })
			forEachBackend(t, func(t *testing.T) {
				got, _ := runEW(c, clone, ins, ys, -1)
				requireBitsEqual(t, c.name, got, want)
			})
		})
	}
}

// TestElementwiseSemantics pins the documented element rules of the pure-Go
// definition (and so of every backend).
func TestElementwiseSemantics(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	forEachBackend(t, func(t *testing.T) {
		x := []float32{-2, negZero, 0, 3, nan, inf, float32(math.Inf(-1)), math.SmallestNonzeroFloat32}
		dy := []float32{10, 11, 12, 13, 14, 15, 16, 17}
		y := make([]float32, len(x))
		ReLU(y, x)
		requireBitsEqual(t, "ReLU", y, []float32{0, negZero, 0, 3, nan, inf, 0, math.SmallestNonzeroFloat32})
		ReLUBackward(y, x, dy)
		requireBitsEqual(t, "ReLUBackward", y, []float32{0, 0, 0, 13, 0, 15, 0, 17})

		a := []float32{1, 1e30, 3}
		b := []float32{2, 1e30, 0.1}
		o := make([]float32, 3)
		Add(o, a, b)
		requireBitsEqual(t, "Add", o, []float32{3, 2e30, 3 + float32(0.1)})
		Sub(o, a, b)
		requireBitsEqual(t, "Sub", o, []float32{-1, 0, 3 - float32(0.1)})
		Mul(o, a, b)
		requireBitsEqual(t, "Mul", o, []float32{2, inf, 3 * float32(0.1)})
		Scale(o, a, 2)
		requireBitsEqual(t, "Scale", o, []float32{2, 2e30, 6})

		// Axpy is fused: one rounding. 1+2^-12 squared needs 25 bits.
		p := float32(1 + 0x1p-12)
		yy := []float32{-1}
		Axpy(p, []float32{p}, yy)
		requireSame(t, "Axpy fused", yy[0], 0x1p-11+0x1p-24)

		// GELU(0) = 0, GELU(+Inf) = +Inf; tanh form too.
		g := make([]float32, 2)
		GELU(g, []float32{0, inf})
		requireBitsEqual(t, "GELU(0, Inf)", g, []float32{0, inf})
		GELUTanh(g, []float32{0, inf})
		requireBitsEqual(t, "GELUTanh(0, Inf)", g, []float32{0, inf})
		GELU(g, []float32{-30, 30})
		requireBitsEqual(t, "GELU(-30, 30)", g, []float32{negZero, 30})
	})
}

// TestZeroLength checks that every kernel accepts empty and nil operands.
func TestZeroLength(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		for _, c := range ewCases() {
			c.call(nil, [][]float32{nil, nil})
			c.call([]float32{}, [][]float32{{}, {}})
		}
		if got := Dot(nil, nil); math.Float32bits(got) != 0 {
			t.Errorf("Dot(nil, nil) = %v, want +0", got)
		}
		if got := Sum(nil); math.Float32bits(got) != 0 {
			t.Errorf("Sum(nil) = %v, want +0", got)
		}
		if got := Max(nil); !math.IsInf(float64(got), -1) {
			t.Errorf("Max(nil) = %v, want -Inf", got)
		}
	})
}
