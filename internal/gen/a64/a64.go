// Package a64 encodes the AArch64 Advanced SIMD (NEON) instructions that Go's
// arm64 assembler does not accept, so the generator can emit them as
// `WORD $0x...` lines. Every function returns the 32-bit instruction word and
// its GNU assembler spelling (as printed by objdump and by
// golang.org/x/arch/arm64/arm64asm.GNUSyntax), which the generator writes as
// a comment and the tests check against both decoders.
//
// Only the 128-bit single-precision arrangement (.4S) is covered, plus the
// byte-wise logical ops (.16B) and the scalar across-lane forms the kernels
// need. Registers are vector register numbers 0..31.
package a64

import "fmt"

// Inst is one encoded instruction.
type Inst struct {
	Word uint32 // the instruction word (little-endian in memory)
	GNU  string // GNU syntax, e.g. "fadd v1.4s, v2.4s, v3.4s"
}

// String returns the line the generator writes: WORD plus the GNU comment.
func (i Inst) String() string { return fmt.Sprintf("WORD $0x%08x // %s", i.Word, i.GNU) }

func reg(r int) uint32 {
	if r < 0 || r > 31 {
		panic(fmt.Sprintf("a64: vector register V%d out of range 0..31", r))
	}
	return uint32(r)
}

// three encodes a three-register instruction d, n, m in arrangement arr.
func three(base uint32, name, arr string, d, n, m int) Inst {
	w := base | reg(m)<<16 | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("%s v%d.%s, v%d.%s, v%d.%s", name, d, arr, n, arr, m, arr)}
}

// two encodes a two-register instruction d, n.
func two(base uint32, name, arr string, d, n int) Inst {
	w := base | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("%s v%d.%s, v%d.%s", name, d, arr, n, arr)}
}

// Three-register single-precision arithmetic, d = n op m (lane-wise, .4S).

// FADD is d = n + m.
func FADD(d, n, m int) Inst { return three(0x4E20D400, "fadd", "4s", d, n, m) }

// FSUB is d = n - m.
func FSUB(d, n, m int) Inst { return three(0x4EA0D400, "fsub", "4s", d, n, m) }

// FMUL is d = n * m.
func FMUL(d, n, m int) Inst { return three(0x6E20DC00, "fmul", "4s", d, n, m) }

// FDIV is d = n / m.
func FDIV(d, n, m int) Inst { return three(0x6E20FC00, "fdiv", "4s", d, n, m) }

// FMAX is d = max(n, m); NaN in either operand gives NaN; max(-0, +0) = +0.
func FMAX(d, n, m int) Inst { return three(0x4E20F400, "fmax", "4s", d, n, m) }

// FMIN is d = min(n, m); NaN in either operand gives NaN.
func FMIN(d, n, m int) Inst { return three(0x4EA0F400, "fmin", "4s", d, n, m) }

// FMAXNM is d = maxNum(n, m): a quiet NaN operand loses against a number.
func FMAXNM(d, n, m int) Inst { return three(0x4E20C400, "fmaxnm", "4s", d, n, m) }

// FMINNM is d = minNum(n, m).
func FMINNM(d, n, m int) Inst { return three(0x4EA0C400, "fminnm", "4s", d, n, m) }

// FADDP is the pairwise add of the concatenation n:m.
func FADDP(d, n, m int) Inst { return three(0x6E20D400, "faddp", "4s", d, n, m) }

// FMAXP is the pairwise max of the concatenation n:m.
func FMAXP(d, n, m int) Inst { return three(0x6E20F400, "fmaxp", "4s", d, n, m) }

// FMLA is d = fma(n, m, d), fused.
func FMLA(d, n, m int) Inst { return three(0x4E20CC00, "fmla", "4s", d, n, m) }

// FMLS is d = fma(-n, m, d), fused.
func FMLS(d, n, m int) Inst { return three(0x4EA0CC00, "fmls", "4s", d, n, m) }

// FCMEQ sets all bits of a lane when n == m.
func FCMEQ(d, n, m int) Inst { return three(0x4E20E400, "fcmeq", "4s", d, n, m) }

// FCMGE sets all bits of a lane when n >= m.
func FCMGE(d, n, m int) Inst { return three(0x6E20E400, "fcmge", "4s", d, n, m) }

// FCMGT sets all bits of a lane when n > m.
func FCMGT(d, n, m int) Inst { return three(0x6EA0E400, "fcmgt", "4s", d, n, m) }

// Three-register 32-bit integer ops (.4S).

// MUL is d = n * m (low 32 bits).
func MUL(d, n, m int) Inst { return three(0x4EA09C00, "mul", "4s", d, n, m) }

// CMHI sets a lane when n > m unsigned.
func CMHI(d, n, m int) Inst { return three(0x6EA03400, "cmhi", "4s", d, n, m) }

// CMHS sets a lane when n >= m unsigned.
func CMHS(d, n, m int) Inst { return three(0x6EA03C00, "cmhs", "4s", d, n, m) }

// CMGT sets a lane when n > m signed.
func CMGT(d, n, m int) Inst { return three(0x4EA03400, "cmgt", "4s", d, n, m) }

// CMGE sets a lane when n >= m signed.
func CMGE(d, n, m int) Inst { return three(0x4EA03C00, "cmge", "4s", d, n, m) }

// BIC is d = n AND NOT m (.16B).
func BIC(d, n, m int) Inst { return three(0x4E601C00, "bic", "16b", d, n, m) }

// ORN is d = n OR NOT m (.16B).
func ORN(d, n, m int) Inst { return three(0x4EE01C00, "orn", "16b", d, n, m) }

// By-element forms: the multiplier is lane idx (0..3) of m.

func elem(base uint32, name string, d, n, m, idx int) Inst {
	if idx < 0 || idx > 3 {
		panic(fmt.Sprintf("a64: %s lane index %d out of range 0..3", name, idx))
	}
	w := base | uint32(idx&1)<<21 | uint32(idx>>1)<<11 | reg(m)<<16 | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.s[%d]", name, d, n, m, idx)}
}

// FMLAElem is d = fma(n, m[idx], d), fused.
func FMLAElem(d, n, m, idx int) Inst { return elem(0x4F801000, "fmla", d, n, m, idx) }

// FMLSElem is d = fma(-n, m[idx], d), fused.
func FMLSElem(d, n, m, idx int) Inst { return elem(0x4F805000, "fmls", d, n, m, idx) }

// FMULElem is d = n * m[idx].
func FMULElem(d, n, m, idx int) Inst { return elem(0x4F809000, "fmul", d, n, m, idx) }

// Two-register ops (.4S unless noted).

// FNEG is d = -n (sign flip).
func FNEG(d, n int) Inst { return two(0x6EA0F800, "fneg", "4s", d, n) }

// FABS is d = |n| (sign clear).
func FABS(d, n int) Inst { return two(0x4EA0F800, "fabs", "4s", d, n) }

// FSQRT is the correctly rounded square root.
func FSQRT(d, n int) Inst { return two(0x6EA1F800, "fsqrt", "4s", d, n) }

// SCVTF converts signed int32 lanes to float32 (round to nearest even).
func SCVTF(d, n int) Inst { return two(0x4E21D800, "scvtf", "4s", d, n) }

// UCVTF converts unsigned int32 lanes to float32.
func UCVTF(d, n int) Inst { return two(0x6E21D800, "ucvtf", "4s", d, n) }

// FCVTZS converts float32 to int32, rounding toward zero (saturating).
func FCVTZS(d, n int) Inst { return two(0x4EA1B800, "fcvtzs", "4s", d, n) }

// FCVTNS converts float32 to int32, rounding to nearest even.
func FCVTNS(d, n int) Inst { return two(0x4E21A800, "fcvtns", "4s", d, n) }

// FRINTN rounds to an integral float32, to nearest even.
func FRINTN(d, n int) Inst { return two(0x4E218800, "frintn", "4s", d, n) }

// FRINTM rounds toward minus infinity.
func FRINTM(d, n int) Inst { return two(0x4E219800, "frintm", "4s", d, n) }

// NOT is the bitwise complement (.16B).
func NOT(d, n int) Inst { return two(0x6E205800, "mvn", "16b", d, n) }

// Compares against zero: all bits of a lane set when the condition holds.

// FCMGTZ sets a lane when n > 0.
func FCMGTZ(d, n int) Inst { return zero(0x4EA0C800, "fcmgt", d, n) }

// FCMGEZ sets a lane when n >= 0.
func FCMGEZ(d, n int) Inst { return zero(0x6EA0C800, "fcmge", d, n) }

// FCMLTZ sets a lane when n < 0.
func FCMLTZ(d, n int) Inst { return zero(0x4EA0E800, "fcmlt", d, n) }

func zero(base uint32, name string, d, n int) Inst {
	i := two(base, name, "4s", d, n)
	i.GNU += ", #0"
	return i
}

// SSHR is the arithmetic right shift of each 32-bit lane by sh (1..32).
func SSHR(d, n, sh int) Inst {
	if sh < 1 || sh > 32 {
		panic(fmt.Sprintf("a64: sshr shift %d out of range 1..32", sh))
	}
	w := 0x4F000400 | uint32(64-sh)<<16 | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("sshr v%d.4s, v%d.4s, #%d", d, n, sh)}
}

// Across-lane and scalar pairwise forms; the result is scalar register Sd
// (lane 0 of Vd, the other lanes zeroed).

// FMAXV is Sd = max of the four lanes of n (NaN-propagating).
func FMAXV(d, n int) Inst { return across(0x6E30F800, "fmaxv", d, n) }

// FMINV is Sd = min of the four lanes of n.
func FMINV(d, n int) Inst { return across(0x6EB0F800, "fminv", d, n) }

// FMAXNMV is Sd = maxNum of the four lanes of n.
func FMAXNMV(d, n int) Inst { return across(0x6E30C800, "fmaxnmv", d, n) }

func across(base uint32, name string, d, n int) Inst {
	w := base | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("%s s%d, v%d.4s", name, d, n)}
}

// FADDPS is Sd = n[0] + n[1] (scalar pairwise add).
func FADDPS(d, n int) Inst {
	w := 0x7E30D800 | reg(n)<<5 | reg(d)
	return Inst{w, fmt.Sprintf("faddp s%d, v%d.2s", d, n)}
}
