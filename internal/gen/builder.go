package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"math"
	"strings"

	"github.com/simdformer/simdformer/internal/gen/a64"
)

// V is a vector register number, V0..V31.
type V int

func (v V) S4() string  { return fmt.Sprintf("V%d.S4", int(v)) }
func (v V) B16() string { return fmt.Sprintf("V%d.B16", int(v)) }
func (v V) F() string   { return fmt.Sprintf("F%d", int(v)) }

// code is a straight run of instruction lines. Streams of independent work
// are built as separate codes and merged round-robin by interleave, so the
// CPU sees independent instructions next to each other.
type code struct{ lines []string }

// I appends one native Go-assembler instruction.
func (c *code) I(format string, args ...any) { c.lines = append(c.lines, fmt.Sprintf(format, args...)) }

// W appends an instruction the Go assembler lacks, as a WORD.
func (c *code) W(i a64.Inst) { c.lines = append(c.lines, i.String()) }

// interleave appends the streams' instructions round-robin.
func (c *code) interleave(streams []*code) {
	for i := 0; ; i++ {
		any := false
		for _, s := range streams {
			if i < len(s.lines) {
				c.lines = append(c.lines, s.lines[i])
				any = true
			}
		}
		if !any {
			return
		}
	}
}

// Vector helpers. Argument order is always destination first, as in GNU
// syntax; the methods translate to Go's reversed operand order.

func (c *code) fadd(d, n, m V)      { c.W(a64.FADD(int(d), int(n), int(m))) }
func (c *code) fsub(d, n, m V)      { c.W(a64.FSUB(int(d), int(n), int(m))) }
func (c *code) fmul(d, n, m V)      { c.W(a64.FMUL(int(d), int(n), int(m))) }
func (c *code) fdiv(d, n, m V)      { c.W(a64.FDIV(int(d), int(n), int(m))) }
func (c *code) fmin(d, n, m V)      { c.W(a64.FMIN(int(d), int(n), int(m))) }
func (c *code) fmax(d, n, m V)      { c.W(a64.FMAX(int(d), int(n), int(m))) }
func (c *code) fmaxnm(d, n, m V)    { c.W(a64.FMAXNM(int(d), int(n), int(m))) }
func (c *code) fcmgt(d, n, m V)     { c.W(a64.FCMGT(int(d), int(n), int(m))) }
func (c *code) fcmeq(d, n, m V)     { c.W(a64.FCMEQ(int(d), int(n), int(m))) }
func (c *code) fcmltz(d, n V)       { c.W(a64.FCMLTZ(int(d), int(n))) }
func (c *code) fcmgtz(d, n V)       { c.W(a64.FCMGTZ(int(d), int(n))) }
func (c *code) mul(d, n, m V)       { c.W(a64.MUL(int(d), int(n), int(m))) }
func (c *code) cmhi(d, n, m V)      { c.W(a64.CMHI(int(d), int(n), int(m))) }
func (c *code) bic(d, n, m V)       { c.W(a64.BIC(int(d), int(n), int(m))) }
func (c *code) fmlaE(d, n V, k kst) { c.W(a64.FMLAElem(int(d), int(n), int(k.v), k.lane)) }
func (c *code) fmulE(d, n V, k kst) { c.W(a64.FMULElem(int(d), int(n), int(k.v), k.lane)) }

// fmla is d = fma(n, m, d); fmls is d = fma(-n, m, d) (native).
func (c *code) fmla(d, n, m V) { c.I("VFMLA %s, %s, %s", m.S4(), n.S4(), d.S4()) }
func (c *code) fmls(d, n, m V) { c.I("VFMLS %s, %s, %s", m.S4(), n.S4(), d.S4()) }

func (c *code) and(d, n, m V) { c.I("VAND %s, %s, %s", m.B16(), n.B16(), d.B16()) }
func (c *code) orr(d, n, m V) { c.I("VORR %s, %s, %s", m.B16(), n.B16(), d.B16()) }
func (c *code) eor(d, n, m V) { c.I("VEOR %s, %s, %s", m.B16(), n.B16(), d.B16()) }
func (c *code) zero(d V)      { c.eor(d, d, d) }

// bit inserts n into d where m is set: d = (d &^ m) | (n & m).
func (c *code) bit(d, n, m V) { c.I("VBIT %s, %s, %s", m.B16(), n.B16(), d.B16()) }

func (c *code) mov(d, n V) {
	if d != n {
		c.I("VMOV %s, %s", n.B16(), d.B16())
	}
}

// dup broadcasts a constant's lane (a one-instruction "load constant").
func (c *code) dup(d V, k kst) { c.I("VDUP V%d.S[%d], %s", int(k.v), k.lane, d.S4()) }

func (c *code) iadd(d, n, m V)     { c.I("VADD %s, %s, %s", m.S4(), n.S4(), d.S4()) }
func (c *code) isub(d, n, m V)     { c.I("VSUB %s, %s, %s", m.S4(), n.S4(), d.S4()) }
func (c *code) ushr(d, n V, s int) { c.I("VUSHR $%d, %s, %s", s, n.S4(), d.S4()) }
func (c *code) shl(d, n V, s int)  { c.I("VSHL $%d, %s, %s", s, n.S4(), d.S4()) }
func (c *code) ext(d, n, m V, b int) {
	c.I("VEXT $%d, %s, %s, %s", b, m.B16(), n.B16(), d.B16())
}

// Loads and stores of w lanes (4: a Q register; 1: lane 0 of an S register,
// which zeroes lanes 1..3 on load) at byte offset off from GP register r.
func (c *code) ld(w int, d V, off int, r string) {
	if w == 4 {
		c.I("FMOVQ %d(%s), %s", off, r, d.F())
	} else {
		c.I("FMOVS %d(%s), %s", off, r, d.F())
	}
}

func (c *code) st(w int, s V, off int, r string) {
	if w == 4 {
		c.I("FMOVQ %s, %d(%s)", s.F(), off, r)
	} else {
		c.I("FMOVS %s, %d(%s)", s.F(), off, r)
	}
}

// bcast loads a 32-bit pattern into every lane of d (via R16).
func (c *code) bcast(d V, bits uint32) {
	c.I("MOVW $0x%08x, R16", bits)
	c.I("VDUP R16, %s", d.S4())
}

func (c *code) bcastF(d V, f float32) { c.bcast(d, math.Float32bits(f)) }

// kst names one lane of a constant register: used as a by-element multiplier
// or broadcast with dup.
type kst struct {
	v    V
	lane int
}

// pool packs float32 constants four to a register, loaded from a read-only
// DATA table.
type pool struct {
	name string // DATA symbol (without <>)
	vals []uint32
	regs []V
}

// add returns a lane holding f, reusing an equal constant.
func (p *pool) add(f float32) kst {
	bits := math.Float32bits(f)
	for i, v := range p.vals {
		if v == bits {
			return kst{p.regs[i/4], i % 4}
		}
	}
	return p.addBits(bits)
}

// vec appends a whole register of four lane values and returns it.
func (p *pool) vec(l0, l1, l2, l3 uint32) V {
	for len(p.vals)%4 != 0 {
		p.addBits(0)
	}
	k := p.addBits(l0)
	p.addBits(l1)
	p.addBits(l2)
	p.addBits(l3)
	return k.v
}

// addBits appends a raw 32-bit lane value.
func (p *pool) addBits(bits uint32) kst {
	i := len(p.vals)
	if i/4 >= len(p.regs) {
		panic(fmt.Sprintf("gen: constant pool %s: more than %d constants", p.name, 4*len(p.regs)))
	}
	p.vals = append(p.vals, bits)
	return kst{p.regs[i/4], i % 4}
}

// alloc hands out vector registers.
type alloc struct{ free []V }

func newAlloc(from, to V) *alloc {
	a := &alloc{}
	for v := from; v <= to; v++ {
		a.free = append(a.free, v)
	}
	return a
}

func (a *alloc) get() V {
	if len(a.free) == 0 {
		panic("gen: out of vector registers")
	}
	v := a.free[0]
	a.free = a.free[1:]
	return v
}

func (a *alloc) n(k int) []V {
	out := make([]V, k)
	for i := range out {
		out[i] = a.get()
	}
	return out
}

// arg is one named argument slot of the Go frame.
type arg struct {
	off  int
	size int
}

// fn is the function being generated.
type fn struct {
	name  string
	doc   string
	sig   string
	args  map[string]arg
	argsz int
	frame int
	body  code
	pools []*pool
	nlab  int
	b     *builder
}

// builder accumulates the assembly and the Go stubs.
type builder struct {
	asm   bytes.Buffer
	data  bytes.Buffer
	stubs bytes.Buffer
	cur   *fn
	syms  map[string]string // DATA contents -> symbol, so equal tables are shared
}

// text starts a function. sig is the Go signature ("func(x []float32) float32",
// results named or a single unnamed one called ret), frame the local bytes.
func (b *builder) text(name, doc, sig string, frame int) *fn {
	f := &fn{name: name, doc: doc, sig: sig, args: map[string]arg{}, frame: frame, b: b}
	f.argsz = layout(sig, f.args)
	b.cur = f
	return f
}

// layout computes the ABI0 stack layout of sig's arguments (amd64/arm64
// sizes), filling args with the names the Go assembler expects.
func layout(sig string, args map[string]arg) int {
	e, err := parser.ParseExpr(sig)
	if err != nil {
		panic(fmt.Sprintf("gen: bad signature %q: %v", sig, err))
	}
	ft := e.(*ast.FuncType)
	off := 0
	place := func(name string, t ast.Expr) {
		typ := types(t)
		switch typ {
		case "[]float32", "[]uint64", "[]bool":
			off = alignUp(off, 8)
			args[name+"_base"] = arg{off, 8}
			args[name+"_len"] = arg{off + 8, 8}
			args[name+"_cap"] = arg{off + 16, 8}
			off += 24
		case "int", "uint64":
			off = alignUp(off, 8)
			args[name] = arg{off, 8}
			off += 8
		case "float32", "uint32":
			off = alignUp(off, 4)
			args[name] = arg{off, 4}
			off += 4
		case "bool":
			args[name] = arg{off, 1}
			off++
		default:
			panic("gen: unsupported argument type " + typ)
		}
	}
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			place(n.Name, f.Type)
		}
	}
	if ft.Results != nil {
		off = alignUp(off, 8)
		for _, f := range ft.Results.List {
			if len(f.Names) == 0 {
				place("ret", f.Type)
			}
			for _, n := range f.Names {
				place(n.Name, f.Type)
			}
		}
	}
	return off // not rounded up: go vet's asmdecl wants the exact end
}

func types(t ast.Expr) string {
	switch t := t.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.ArrayType:
		return "[]" + types(t.Elt)
	}
	panic(fmt.Sprintf("gen: unsupported type %T", t))
}

func alignUp(x, a int) int { return (x + a - 1) / a * a }

// A returns the FP reference of argument component name, e.g. "x_len+8(FP)".
func (f *fn) A(name string) string {
	a, ok := f.args[name]
	if !ok {
		panic(fmt.Sprintf("gen: %s has no argument %s", f.name, name))
	}
	return fmt.Sprintf("%s+%d(FP)", name, a.off)
}

// label returns a fresh label with the given hint.
func (f *fn) label(hint string) string {
	f.nlab++
	return fmt.Sprintf("%s_%d", hint, f.nlab)
}

// L places a label.
func (f *fn) L(l string) { f.body.lines = append(f.body.lines, l+":") }

// newPool adds a constant pool loaded into regs (its DATA symbol is named
// after the function); call load after filling it.
func (f *fn) newPool(regs ...V) *pool {
	p := &pool{name: fmt.Sprintf("%s_k%d", f.name, len(f.pools)), regs: regs}
	f.pools = append(f.pools, p)
	return p
}

// loadPool emits the loads of p's registers (via R16) from a read-only
// table, shared with any earlier function that has the same constants.
func (f *fn) loadPool(p *pool) {
	c := &f.body
	c.I("MOVD $%s<>(SB), R16", f.b.table(p))
	for i := 0; i*4 < len(p.vals); i++ {
		c.I("FMOVQ %d(R16), %s", 16*i, p.regs[i].F())
	}
}

// end finishes the function: writes its text, constant data and stub.
func (b *builder) end() {
	f := b.cur
	fmt.Fprintf(&b.asm, "\n// func %s%s\n", f.name, strings.TrimPrefix(f.sig, "func"))
	fmt.Fprintf(&b.asm, "TEXT ·%s(SB), NOSPLIT, $%d-%d\n", f.name, f.frame, f.argsz)
	for _, l := range f.body.lines {
		if strings.HasSuffix(l, ":") {
			fmt.Fprintf(&b.asm, "\n%s\n", l)
		} else {
			fmt.Fprintf(&b.asm, "\t%s\n", l)
		}
	}
	fmt.Fprintf(&b.stubs, "\n%s\n//\n//go:noescape\nfunc %s%s\n", comment(f.doc), f.name, strings.TrimPrefix(f.sig, "func"))
	b.cur = nil
}

// table returns the DATA symbol holding p's values, writing it on first use.
func (b *builder) table(p *pool) string {
	n := alignUp(len(p.vals), 4)
	var key strings.Builder
	for i := 0; i < n; i++ {
		v := uint32(0)
		if i < len(p.vals) {
			v = p.vals[i]
		}
		fmt.Fprintf(&key, "DATA %%s<>+%d(SB)/4, $0x%08x // %v\n", 4*i, v, math.Float32frombits(v))
	}
	if b.syms == nil {
		b.syms = map[string]string{}
	}
	if sym, ok := b.syms[key.String()]; ok {
		return sym
	}
	b.syms[key.String()] = p.name
	fmt.Fprintf(&b.data, "\n%sGLOBL %s<>(SB), RODATA|NOPTR, $%d\n",
		strings.ReplaceAll(key.String(), "%s", p.name), p.name, 4*n)
	return p.name
}

func comment(doc string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(doc), "\n") {
		out = append(out, strings.TrimRight("// "+l, " "))
	}
	return strings.Join(out, "\n")
}
