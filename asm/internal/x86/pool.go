// Package x86 holds helpers shared by the amd64 Avo generators of asm/.
package x86

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
)

// Pool deduplicates read-only vector constants. Every constant is a 64-byte
// static symbol (16 dwords), so one symbol serves as an XMM, YMM or ZMM
// memory operand and as the 4-byte source of a broadcast. Symbols are static
// (file-local, name<>), so generators writing into the same Go package never
// collide; prefix keeps names readable.
type Pool struct {
	prefix string
	syms   map[string]operand.Mem
}

// NewPool returns an empty pool whose symbols are named prefix_....
func NewPool(prefix string) *Pool {
	return &Pool{prefix: prefix, syms: map[string]operand.Mem{}}
}

// U32 returns a 64-byte symbol holding v sixteen times.
func (p *Pool) U32(v uint32) operand.Mem {
	var vals [16]uint32
	for i := range vals {
		vals[i] = v
	}
	return p.Vec(fmt.Sprintf("%08x", v), vals[:])
}

// F32 returns a 64-byte symbol holding v sixteen times.
func (p *Pool) F32(v float32) operand.Mem { return p.U32(math.Float32bits(v)) }

// Vec returns a symbol holding the given dwords (named prefix_name), creating
// it on first use.
func (p *Pool) Vec(name string, vals []uint32) operand.Mem {
	key := p.prefix + "_" + name
	if m, ok := p.syms[key]; ok {
		return m
	}
	m := build.GLOBL(key, attr.RODATA|attr.NOPTR)
	for i, v := range vals {
		build.DATA(4*i, operand.U32(v))
	}
	p.syms[key] = m
	return m
}
