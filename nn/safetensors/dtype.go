package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// dtypeSize gives the element size in bytes of every dtype this package can
// decode. Dtypes of the format that are missing here (complex, sub-byte and
// scaled float8 types) are reported as unsupported.
var dtypeSize = map[string]int{
	"BOOL":    1,
	"U8":      1,
	"I8":      1,
	"F8_E5M2": 1,
	"F8_E4M3": 1,
	"I16":     2,
	"U16":     2,
	"F16":     2,
	"BF16":    2,
	"I32":     4,
	"U32":     4,
	"F32":     4,
	"F64":     8,
	"I64":     8,
	"U64":     8,
}

// dtypeNames lists the keys of dtypeSize (the header parser matches names
// against it without allocating).
var dtypeNames = []string{"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
	"I32", "U32", "F32", "F64", "I64", "U64"}

// knownUnsupported lists dtypes of the safetensors format that are valid on
// disk but have no float32 reading here, so the error can say so precisely.
var knownUnsupported = map[string]bool{
	"F4": true, "F6_E2M3": true, "F6_E3M2": true, "F8_E8M0": true,
	"C64": true, "C128": true,
}

// maxExactInt is 2^24: every integer of magnitude up to it is a float32.
const maxExactInt = 1 << 24

// decode converts raw little-endian elements of dtype dt into dst
// (len(dst) == len(src)/size). It returns the index of the first element
// that has no exact float32 value (integers beyond 2^24 that float32 cannot
// hold, BOOL bytes other than 0 and 1), or -1.
func decode(dst []float32, src []byte, dt string) int {
	le := binary.LittleEndian
	switch dt {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case "F16":
		for i := range dst {
			dst[i] = F16ToF32(le.Uint16(src[2*i:]))
		}
	case "BF16":
		for i := range dst {
			dst[i] = BF16ToF32(le.Uint16(src[2*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case "F8_E5M2":
		for i := range dst {
			dst[i] = F16ToF32(uint16(src[i]) << 8)
		}
	case "F8_E4M3":
		for i := range dst {
			dst[i] = f8e4m3ToF32(src[i])
		}
	case "BOOL":
		for i := range dst {
			if src[i] > 1 {
				return i
			}
			dst[i] = float32(src[i])
		}
	case "U8":
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case "I8":
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case "I16":
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(src[2*i:])))
		}
	case "U16":
		for i := range dst {
			dst[i] = float32(le.Uint16(src[2*i:]))
		}
	case "I32":
		for i := range dst {
			v := int32(le.Uint32(src[4*i:]))
			if !exactInt(int64(v)) {
				return i
			}
			dst[i] = float32(v)
		}
	case "U32":
		for i := range dst {
			v := le.Uint32(src[4*i:])
			if !exactUint(uint64(v)) {
				return i
			}
			dst[i] = float32(v)
		}
	case "I64":
		for i := range dst {
			v := int64(le.Uint64(src[8*i:]))
			if !exactInt(v) {
				return i
			}
			dst[i] = float32(v)
		}
	case "U64":
		for i := range dst {
			v := le.Uint64(src[8*i:])
			if !exactUint(v) {
				return i
			}
			dst[i] = float32(v)
		}
	default:
		panic("safetensors: decode of unchecked dtype " + dt)
	}
	return -1
}

// exactInt reports whether float32(v) == v exactly.
func exactInt(v int64) bool {
	if v < 0 {
		if v == math.MinInt64 {
			return true // -2^63 is a power of two
		}
		v = -v
	}
	return exactUint(uint64(v))
}

// exactUint reports whether float32(v) == v exactly: at most 24 significant bits.
func exactUint(v uint64) bool {
	if v <= maxExactInt {
		return true
	}
	for v&1 == 0 {
		v >>= 1
	}
	return v < maxExactInt
}

// F16ToF32 converts an IEEE 754 binary16 value (given as its bits) to
// float32. Every binary16 value, subnormals included, is exactly
// representable, so the conversion is exact; ±Inf stay infinite and NaN
// payloads are kept (shifted into the float32 mantissa).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal mant·2^-24: normalise so the implicit bit 10 is set.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// F32ToF16 converts f to IEEE 754 binary16 bits, rounding to nearest with
// ties to even (as numpy and PyTorch do). Values beyond the binary16 range
// become ±Inf, tiny values become subnormals or ±0, and NaN stays NaN
// (keeping the top mantissa bits of its payload).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		m := uint16(mant >> 13)
		if m == 0 {
			m = 0x200
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e >= 1 {
		h := uint32(e)<<10 | mant>>13
		rem := mant & 0x1fff
		if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
			h++ // a carry into the exponent is the correct next value (up to Inf)
		}
		return sign | uint16(h)
	}
	if exp == 0 {
		return sign // float32 subnormals are far below half the smallest binary16 subnormal
	}
	// Result is a binary16 subnormal (or zero), in units of 2^-24.
	m := mant | 0x800000
	s := uint(126 - exp) // m >> s units; s >= 14
	if s > 24 {
		return sign
	}
	q := m >> s
	rem := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return sign | uint16(q)
}

// BF16ToF32 converts bfloat16 bits to float32; exact (bfloat16 is the top
// half of a float32).
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// F32ToBF16 converts f to bfloat16 bits, rounding to nearest with ties to
// even; NaN stays a (quiet) NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// f8e4m3ToF32 decodes float8 E4M3FN (bias 7, no infinities, S.1111.111 is
// NaN, maximum 448); exact.
func f8e4m3ToF32(v uint8) float32 {
	sign := float32(1)
	if v&0x80 != 0 {
		sign = -1
	}
	exp := int(v>>3) & 0xf
	mant := int(v) & 7
	if exp == 0xf && mant == 7 {
		return float32(math.NaN())
	}
	if exp == 0 {
		return sign * float32(math.Ldexp(float64(mant), -9))
	}
	return sign * float32(math.Ldexp(float64(8+mant), exp-7-3))
}

// encodeSize is the element size of the dtypes Save can write.
func encodeSize(dt string) (int, error) {
	switch dt {
	case "", "F32":
		return 4, nil
	case "F16", "BF16":
		return 2, nil
	}
	return 0, fmt.Errorf("safetensors: Save writes F32, F16 or BF16, not %q", dt)
}

// encode appends the little-endian encoding of src as dtype dt to dst.
func encode(dst []byte, src []float32, dt string) []byte {
	le := binary.LittleEndian
	switch dt {
	case "F16":
		for _, v := range src {
			dst = le.AppendUint16(dst, F32ToF16(v))
		}
	case "BF16":
		for _, v := range src {
			dst = le.AppendUint16(dst, F32ToBF16(v))
		}
	default:
		for _, v := range src {
			dst = le.AppendUint32(dst, math.Float32bits(v))
		}
	}
	return dst
}
