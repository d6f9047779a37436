package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// Fuzz targets: each decodes fuzzer bytes into float32 bit patterns (every
// class: NaN payloads, infinities, subnormals) and shapes/options, then
// requires every available backend to give the purego bits. Run one with
//
//	go test -run='^$' -fuzz=FuzzSoftmax -fuzztime=10s ./kernels/
//
// Without -fuzz they run their seed corpora as ordinary tests.

const fuzzMaxElems = 1 << 13

// fuzzFloats reads little-endian float32 bit patterns from b.
func fuzzFloats(b []byte) []float32 {
	n := min(len(b)/4, fuzzMaxElems)
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// seedBytes encodes floats for a seed corpus entry.
func seedBytes(x ...float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// seedCorpus is a shared set of inputs: small rows, special values, a
// vector-width-crossing run.
func seedCorpus() [][]byte {
	ramp := make([]float32, 37)
	for i := range ramp {
		ramp[i] = float32(i)*0.37 - 5
	}
	return [][]byte{
		nil,
		seedBytes(1),
		seedBytes(1, 2, 3),
		seedBytes(specialValues...),
		seedBytes(ramp...),
		seedBytes(-87.5, -87.3, 88.3, 88.4, float32(math.NaN()), float32(math.Inf(-1)), 0, 1e-40),
	}
}

// fuzzAllBackends runs fn under purego and then every other backend,
// requiring identical bits for every output slice fn returns.
func fuzzAllBackends(t *testing.T, fn func() [][]float32) {
	t.Helper()
	var want [][]float32
	reference(func() { want = fn() })
	for _, name := range Backends() {
		if name == "purego" {
			continue
		}
		var got [][]float32
		withBackend(name, func() { got = fn() })
		for i := range want {
			requireBitsEqual(t, "backend="+name, got[i], want[i])
		}
	}
}

func FuzzExp(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x := fuzzFloats(data)
		fuzzAllBackends(t, func() [][]float32 {
			y := make([]float32, len(x))
			Exp(y, x)
			return [][]float32{y}
		})
	})
}

func FuzzGELU(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x := fuzzFloats(data)
		// dy: the same values reversed.
		dy := make([]float32, len(x))
		for i := range x {
			dy[i] = x[len(x)-1-i]
		}
		fuzzAllBackends(t, func() [][]float32 {
			out := make([][]float32, 6)
			for i := range out {
				out[i] = make([]float32, len(x))
			}
			GELU(out[0], x)
			GELUBackward(out[1], x, dy)
			GELUTanh(out[2], x)
			GELUTanhBackward(out[3], x, dy)
			ReLU(out[4], x)
			ReLUBackward(out[5], x, dy)
			return out
		})
	})
}

// FuzzElementwise covers Add/Sub/Mul/Scale/Axpy with a fuzzer-chosen alpha.
func FuzzElementwise(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s, float32(0.5))
	}
	f.Add(seedBytes(specialValues...), float32(math.Inf(1)))
	f.Fuzz(func(t *testing.T, data []byte, alpha float32) {
		x := fuzzFloats(data)
		h := len(x) / 2
		a, b := x[:h], x[h:2*h]
		fuzzAllBackends(t, func() [][]float32 {
			out := make([][]float32, 5)
			for i := range out {
				out[i] = make([]float32, h)
			}
			Add(out[0], a, b)
			Sub(out[1], a, b)
			Mul(out[2], a, b)
			Scale(out[3], a, alpha)
			copy(out[4], b)
			Axpy(alpha, a, out[4])
			return out
		})
	})
}

func FuzzReduce(f *testing.F) {
	for _, s := range seedCorpus() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x := fuzzFloats(data)
		h := len(x) / 2
		fuzzAllBackends(t, func() [][]float32 {
			return [][]float32{{Sum(x), Max(x), Dot(x[:h], x[h:2*h]), Sum(x[h:])}}
		})
	})
}

// FuzzSoftmax: shape from cols (rows = len/cols), options from flags.
func FuzzSoftmax(f *testing.F) {
	for i, s := range seedCorpus() {
		f.Add(s, uint8(i+1), uint8(i*37), int8(i-3), float32(0.25*float32(i%4)), uint64(i), uint64(1<<32-uint64(i)))
	}
	f.Fuzz(func(t *testing.T, data []byte, colsB, flags uint8, causalOff int8, p float32, seed, offset uint64) {
		x := fuzzFloats(data)
		cols := int(colsB)
		if cols == 0 {
			cols = 1
		}
		rows := len(x) / cols
		x = x[:rows*cols]
		if !(p >= 0 && p <= 1) {
			p = 0.5
		}
		opt := SoftmaxOptions{Causal: flags&1 != 0, CausalOffset: int(causalOff)}
		if flags&2 != 0 {
			opt.Scale = 0.125
		}
		if flags&4 != 0 && rows > 0 {
			opt.Mask = x[len(x)-cols:] // the last row doubles as a broadcast mask
		}
		if flags&8 != 0 {
			opt.Ignore = make([]bool, cols)
			for j := range opt.Ignore {
				opt.Ignore[j] = (j*7+int(flags))%5 == 0
			}
		}
		if flags&16 != 0 {
			opt.Dropout, opt.Seed, opt.Offset = p, seed, offset
		}
		fuzzAllBackends(t, func() [][]float32 {
			y := make([]float32, len(x))
			drop := make([]float32, len(x))
			SoftmaxDropout(y, drop, x, rows, cols, opt)
			dx := make([]float32, len(x))
			SoftmaxBackward(dx, y, x, rows, cols, 0.5)
			ddx := make([]float32, len(x))
			SoftmaxDropoutBackward(ddx, y, x, rows, cols, 0.5, p, seed, offset)
			return [][]float32{y, drop, dx, ddx}
		})
	})
}

func FuzzLayerNorm(f *testing.F) {
	for i, s := range seedCorpus() {
		f.Add(s, uint8(i+1), uint8(i), float32(1e-5))
	}
	f.Fuzz(func(t *testing.T, data []byte, colsB, flags uint8, eps float32) {
		x := fuzzFloats(data)
		cols := int(colsB)
		if cols == 0 {
			cols = 1
		}
		rows := len(x) / cols
		x = x[:rows*cols]
		if !(eps >= 0) {
			eps = 1e-5
		}
		var gamma, beta []float32
		if flags&1 != 0 && rows > 0 {
			gamma = x[:cols]
			if flags&2 != 0 {
				beta = x[len(x)-cols:]
			}
		}
		fuzzAllBackends(t, func() [][]float32 {
			y, mean, rstd := make([]float32, len(x)), make([]float32, rows), make([]float32, rows)
			LayerNorm(y, mean, rstd, x, gamma, beta, rows, cols, eps)
			dx := make([]float32, len(x))
			var dg, db []float32
			if gamma != nil {
				dg, db = make([]float32, cols), make([]float32, cols)
			}
			LayerNormBackward(dx, dg, db, y, x, mean, rstd, gamma, rows, cols)
			return [][]float32{y, mean, rstd, dx, dg, db}
		})
	})
}

func FuzzDropout(f *testing.F) {
	for i, s := range seedCorpus() {
		f.Add(s, float32(0.1*float32(i)), uint64(i), uint64(1<<32-uint64(3*i)), uint16(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, p float32, seed, offset uint64, split uint16) {
		x := fuzzFloats(data)
		if !(p >= 0 && p <= 1) {
			mustPanic(t, "Dropout bad p", func() { Dropout(x, x, p, seed, offset) }, "probability")
			return
		}
		s := 0
		if len(x) > 0 {
			s = int(split) % (len(x) + 1)
		}
		fuzzAllBackends(t, func() [][]float32 {
			y := make([]float32, len(x))
			Dropout(y, x, p, seed, offset)
			// Split at s with the offset continued: the same bits.
			z := make([]float32, len(x))
			Dropout(z[:s], x[:s], p, seed, offset)
			Dropout(z[s:], x[s:], p, seed, offset+uint64(s))
			requireBitsEqual(t, "split", z, y)
			m := make([]uint64, (len(x)+63)/64)
			DropoutMask(m, len(x), p, seed, offset)
			mf := make([]float32, len(m)*64) // one float per bit, padding bits included
			for j := range mf {
				if maskBit(m, j) {
					mf[j] = 1
				}
			}
			return [][]float32{y, mf}
		})
	})
}
