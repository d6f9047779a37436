package safetensors

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/simdformer/simdformer/internal/jsonstr"
)

// Limits on what a header may describe. They bound the memory spent on a
// header to a small multiple of its size (the header text itself is at most
// MaxHeaderSize bytes), whatever its content.
const (
	// MaxRank is the largest number of dimensions of a tensor.
	MaxRank = 16
	// MaxTensors is the largest number of tensors in one file.
	MaxTensors = 1 << 20
	// MaxMetadata is the largest number of "__metadata__" entries.
	MaxMetadata = 1 << 16
	// maxDepth bounds the nesting of skipped (unknown) JSON values.
	maxDepth = 1000
)

// TensorInfo describes one tensor of a file: what its header says, without
// its data.
type TensorInfo struct {
	Name  string
	DType string // as on disk: "F32", "F16", "BF16", "I64", …
	Shape []int  // outermost first; empty for a scalar

	begin, end uint64 // data offsets, relative to the start of the data section
}

// NumElements is the product of t.Shape (1 for a scalar). It cannot
// overflow: the header's sizes were checked when it was read.
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// header is a parsed and validated header.
type header struct {
	tensors []TensorInfo // sorted by name
	meta    map[string]string
}

// parseHeader parses and validates the JSON header hdr. dataLen is the size
// of the data section (file size - 8 - header length); the tensors' spans
// must tile [0, dataLen) exactly, as the reference implementation demands.
//
// The parser reads hdr in place: names and strings without escapes are
// substrings of hdr, shapes share one pool, and no per-token garbage is
// made, so the memory it holds is a small multiple of len(hdr): about 72
// bytes per tensor (each takes at least 40 bytes of text) plus 8 per
// dimension (each at least 2 bytes of text).
func parseHeader(hdr string, dataLen uint64) (*header, error) {
	if !utf8.ValidString(hdr) {
		return nil, formatErr("header is not valid UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, formatErr("header does not start with '{'")
	}
	p := &parser{s: hdr}
	// Every tensor has a data_offsets field: counting them bounds the
	// number of tensors without parsing, so the slice is allocated once.
	h := &header{tensors: make([]TensorInfo, 0, min(strings.Count(hdr, `"data_offsets"`), MaxTensors))}
	var pool []int // shapes, in chunks that are never reallocated
	haveMeta := false
	err := p.object(func(name string) error {
		if name == "__metadata__" {
			if haveMeta {
				return formatErr(`duplicate key "__metadata__"`)
			}
			haveMeta = true
			var err error
			h.meta, err = p.metadata()
			return err
		}
		if len(h.tensors) == MaxTensors {
			return formatErr(fmt.Sprintf("more than %d tensors", MaxTensors))
		}
		t, err := p.entry(name, &pool)
		if err != nil {
			return err
		}
		h.tensors = append(h.tensors, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, formatErr("trailing data after the header's JSON object")
	}
	// Duplicate names: sort by name and compare neighbours (no map).
	slices.SortFunc(h.tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(h.tensors); i++ {
		if h.tensors[i].Name == h.tensors[i-1].Name {
			return nil, formatErr(fmt.Sprintf("duplicate key %q", truncate(h.tensors[i].Name)))
		}
	}
	if err := checkLayout(h.tensors, dataLen); err != nil {
		return nil, err
	}
	return h, nil
}

// parser is a JSON scanner over a header held as a string.
type parser struct {
	s string
	i int
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) syntax(what string) error {
	if p.i >= len(p.s) {
		return formatErr("invalid JSON header: unexpected end of JSON input")
	}
	c := p.s[p.i]
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	if c < utf8.RuneSelf {
		r = rune(c)
	}
	return formatErr(fmt.Sprintf("invalid JSON header: %s at offset %d, found %q", what, p.i, r))
}

// expect consumes the byte c after optional spaces.
func (p *parser) expect(c byte, what string) error {
	if p.peek() != c {
		return p.syntax(what)
	}
	p.i++
	return nil
}

// object reads {"key": value, …}, calling member after each key with the
// parser positioned before the value, which member must consume.
func (p *parser) object(member func(key string) error) error {
	if err := p.expect('{', "expected '{'"); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.syntax("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.expect(':', "expected ':'"); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.syntax("expected ',' or '}'")
		}
	}
}

// str reads a JSON string literal. Without escapes the result is a
// substring of the header (no allocation).
func (p *parser) str() (string, error) {
	if err := p.expect('"', "expected a string"); err != nil {
		return "", err
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", p.syntax("control character in a string")
		}
		p.i++
	}
	return "", p.syntax("unterminated string")
}

// escaped finishes a string literal that starts at start and holds escapes
// (a lone surrogate decodes to U+FFFD, as encoding/json does).
func (p *parser) escaped(start int) (string, error) {
	b, next, msg := jsonstr.Decode([]byte(p.s[start:p.i]), p.s, p.i, false)
	p.i = next
	if msg != "" {
		return "", p.syntax(msg)
	}
	return string(b), nil
}

// number reads a JSON number and returns its text.
func (p *parser) number() (string, error) {
	p.ws()
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case digits() == 0:
		return "", p.syntax("invalid number")
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return "", p.syntax("invalid number")
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return "", p.syntax("invalid number")
		}
	}
	return p.s[start:p.i], nil
}

// skip consumes any JSON value (unknown fields), iteratively, with nesting
// bounded by maxDepth.
func (p *parser) skip() error {
	var stack []byte // open brackets
	for {
		switch c := p.peek(); {
		case c == '{':
			p.i++
			if p.peek() == '}' {
				p.i++
				break
			}
			stack = append(stack, '{')
			if _, err := p.str(); err != nil {
				return err
			}
			if err := p.expect(':', "expected ':'"); err != nil {
				return err
			}
			if len(stack) > maxDepth {
				return formatErr(fmt.Sprintf("header nests deeper than %d levels", maxDepth))
			}
			continue
		case c == '[':
			p.i++
			if p.peek() == ']' {
				p.i++
				break
			}
			stack = append(stack, '[')
			if len(stack) > maxDepth {
				return formatErr(fmt.Sprintf("header nests deeper than %d levels", maxDepth))
			}
			continue
		case c == '"':
			if _, err := p.str(); err != nil {
				return err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if _, err := p.number(); err != nil {
				return err
			}
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if !strings.HasPrefix(p.s[p.i:], lit) {
				return p.syntax("invalid literal")
			}
			p.i += len(lit)
		default:
			return p.syntax("expected a value")
		}
		// A value ended: close what it completes.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			c := p.peek()
			if c == ',' {
				p.i++
				if top == '{' {
					if _, err := p.str(); err != nil {
						return err
					}
					if err := p.expect(':', "expected ':'"); err != nil {
						return err
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				p.i++
				stack = stack[:len(stack)-1]
				continue
			}
			return p.syntax("expected ',' or a closing bracket")
		}
	}
}

// wrongType reports a value of the wrong JSON type: a syntax error when
// the value is not valid JSON either (as a JSON decoder would), else err.
func (p *parser) wrongType(err error) error {
	if serr := p.skip(); serr != nil {
		return serr
	}
	return err
}

// metadata reads the "__metadata__" value: null or a string→string object
// without duplicate keys.
func (p *parser) metadata() (map[string]string, error) {
	switch p.peek() {
	case 'n':
		if !strings.HasPrefix(p.s[p.i:], "null") {
			return nil, p.syntax("invalid literal")
		}
		p.i += 4
		return nil, nil
	case '{':
	default:
		return nil, p.wrongType(formatErr("__metadata__ is not an object"))
	}
	meta := map[string]string{}
	err := p.object(func(key string) error {
		if _, dup := meta[key]; dup {
			return formatErr(fmt.Sprintf("duplicate __metadata__ key %q", truncate(key)))
		}
		if len(meta) == MaxMetadata {
			return formatErr(fmt.Sprintf("__metadata__ has more than %d entries", MaxMetadata))
		}
		if p.peek() != '"' {
			return p.wrongType(formatErr(fmt.Sprintf("__metadata__ value of %q is not a string", truncate(key))))
		}
		v, err := p.str()
		meta[key] = v
		return err
	})
	return meta, err
}

// entry reads one tensor record {"dtype", "shape", "data_offsets"}; its
// dimensions are appended to *pool. Unknown fields are skipped, as the
// reference implementation does; each known field must appear exactly once.
func (p *parser) entry(name string, pool *[]int) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	bad := func(msg string) error { return formatErr(fmt.Sprintf("tensor %q: %s", truncate(name), msg)) }
	if p.peek() != '{' {
		return t, p.wrongType(bad("record is not an object"))
	}
	var haveDtype, haveShape, haveOffsets bool
	err := p.object(func(field string) error {
		switch field {
		case "dtype":
			if haveDtype {
				return bad("duplicate field dtype")
			}
			haveDtype = true
			if p.peek() != '"' {
				return p.wrongType(bad("dtype is not a string"))
			}
			dt, err := p.str()
			if err != nil {
				return err
			}
			i := slices.Index(dtypeNames, dt)
			if i < 0 {
				if knownUnsupported[dt] {
					return bad(fmt.Sprintf("dtype %s is not supported (no float32 conversion)", dt))
				}
				return bad(fmt.Sprintf("unknown dtype %q", truncate(dt)))
			}
			t.DType = dtypeNames[i] // a constant, not a substring of the header
		case "shape":
			if haveShape {
				return bad("duplicate field shape")
			}
			haveShape = true
			if cap(*pool)-len(*pool) < MaxRank {
				*pool = make([]int, 0, 1<<12)
			}
			at := len(*pool)
			err := p.uints("shape", MaxRank, bad, func(v uint64) error {
				if v > math.MaxInt {
					return bad(fmt.Sprintf("dimension %d is too large", v))
				}
				*pool = append(*pool, int(v))
				return nil
			})
			if err != nil {
				return err
			}
			t.Shape = (*pool)[at:len(*pool):len(*pool)]
		case "data_offsets":
			if haveOffsets {
				return bad("duplicate field data_offsets")
			}
			haveOffsets = true
			var offs [2]uint64
			n := 0
			err := p.uints("data_offsets", 2, bad, func(v uint64) error { offs[n] = v; n++; return nil })
			if err != nil {
				return err
			}
			if n != 2 {
				return bad(fmt.Sprintf("data_offsets has %d entries, want 2", n))
			}
			t.begin, t.end = offs[0], offs[1]
		default:
			return p.skip()
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	switch {
	case !haveDtype:
		return t, bad("missing dtype")
	case !haveShape:
		return t, bad("missing shape")
	case !haveOffsets:
		return t, bad("missing data_offsets")
	}
	return t, nil
}

// uints reads a JSON array of at most max non-negative integers, passing
// each to add.
func (p *parser) uints(what string, max int, bad func(string) error, add func(uint64) error) error {
	if p.peek() != '[' {
		return p.wrongType(bad(what + " is not an array"))
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		c := p.peek()
		if c != '-' && (c < '0' || c > '9') {
			if c == '[' || c == '{' || c == '"' || c == 't' || c == 'f' || c == 'n' {
				return bad(what + " holds a non-number")
			}
			return p.syntax("expected a number")
		}
		num, err := p.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			if num[0] == '-' {
				return bad(fmt.Sprintf("%s holds a negative value %s", what, truncate(num)))
			}
			return bad(fmt.Sprintf("%s holds %s, not a 64-bit unsigned integer", what, truncate(num)))
		}
		if n == max {
			if what == "shape" {
				return bad(fmt.Sprintf("shape has more than %d dimensions", max))
			}
			return bad(fmt.Sprintf("%s has more than %d entries", what, max))
		}
		if err := add(v); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.syntax("expected ',' or ']'")
		}
	}
}

// checkLayout enforces the reference implementation's rules: each tensor's
// byte span matches its shape and dtype (without overflow), the spans sorted
// by offset are contiguous from 0 with no overlap and no hole, and they end
// exactly at the end of the file.
func checkLayout(tensors []TensorInfo, dataLen uint64) error {
	for i := range tensors {
		t := &tensors[i]
		if t.end < t.begin {
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] end before they begin", truncate(t.Name), t.begin, t.end))
		}
		if t.end > dataLen {
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] run past the data section (%d bytes)",
				truncate(t.Name), t.begin, t.end, dataLen))
		}
		n := uint64(1)
		for _, d := range t.Shape {
			hi, lo := bits.Mul64(n, uint64(d))
			if hi != 0 {
				return formatErr(fmt.Sprintf("tensor %q: shape %v overflows", truncate(t.Name), t.Shape))
			}
			n = lo
		}
		// The float32 result takes 4 bytes per element: on 32-bit
		// platforms a large 1- or 2-byte tensor must be refused here, not
		// by a panic in make.
		if n > math.MaxInt/4 {
			return formatErr(fmt.Sprintf("tensor %q: shape %v is too large to load as float32 on this platform", truncate(t.Name), t.Shape))
		}
		hi, nbytes := bits.Mul64(n, uint64(dtypeSize[t.DType]))
		if hi != 0 || nbytes != t.end-t.begin {
			return formatErr(fmt.Sprintf("tensor %q: shape %v of %s does not match data_offsets [%d, %d] (%d bytes)",
				truncate(t.Name), t.Shape, t.DType, t.begin, t.end, t.end-t.begin))
		}
	}
	// Tiling: visit the tensors by offset through a permutation (4 bytes
	// per tensor) so they stay sorted by name.
	order := make([]int32, len(tensors))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &tensors[a], &tensors[b]
		if x.begin != y.begin {
			return cmp.Compare(x.begin, y.begin)
		}
		return cmp.Compare(x.end, y.end)
	})
	pos := uint64(0)
	for _, i := range order {
		t := &tensors[i]
		if t.begin != pos {
			if t.begin < pos {
				return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] overlap the previous tensor (ending at %d)",
					truncate(t.Name), t.begin, t.end, pos))
			}
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] leave a hole after offset %d",
				truncate(t.Name), t.begin, t.end, pos))
		}
		pos = t.end
	}
	if pos != dataLen {
		return formatErr(fmt.Sprintf("tensors cover %d bytes but the data section has %d", pos, dataLen))
	}
	return nil
}

// ErrFormat is wrapped by every error that reports a malformed file, so
// callers can tell bad input (errors.Is(err, ErrFormat)) from I/O failures.
var ErrFormat = errors.New("safetensors: malformed file")

type formatError struct{ msg string }

func (e *formatError) Error() string        { return "safetensors: " + e.msg }
func (e *formatError) Is(target error) bool { return target == ErrFormat }

func formatErr(msg string) error { return &formatError{msg} }

// truncate shortens attacker-controlled strings quoted in error messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
