package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"unicode/utf8"
)

// entry is one tensor's header record, checked against the format's rules.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end uint64 // data offsets, relative to the start of the data section
	elems      int
}

// parseHeader parses and validates the JSON header. dataLen is the size of
// the data section (file size - 8 - header length); the entries returned are
// sorted by offset and cover [0, dataLen) exactly, like the reference
// implementation demands.
func parseHeader(hdr []byte, dataLen uint64) ([]entry, map[string]string, error) {
	if !utf8.Valid(hdr) {
		return nil, nil, formatErr("header is not valid UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, formatErr("header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, jsonErr(err)
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, jsonErr(err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, formatErr(fmt.Sprintf("duplicate key %q", name))
		}
		seen[name] = true
		if name == "__metadata__" {
			if meta, err = parseMetadata(dec); err != nil {
				return nil, nil, err
			}
			continue
		}
		e, err := parseEntry(dec, name)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, formatErr("trailing data after the header's JSON object")
	}
	if err := checkLayout(entries, dataLen); err != nil {
		return nil, nil, err
	}
	return entries, meta, nil
}

// parseMetadata reads the "__metadata__" value: null or a string→string map
// without duplicate keys.
func parseMetadata(dec *json.Decoder) (map[string]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, formatErr("__metadata__ is not an object")
	}
	meta := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key := tok.(string)
		if _, dup := meta[key]; dup {
			return nil, formatErr(fmt.Sprintf("duplicate __metadata__ key %q", key))
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		val, ok := tok.(string)
		if !ok {
			return nil, formatErr(fmt.Sprintf("__metadata__ value of %q is not a string", key))
		}
		meta[key] = val
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	}
	return meta, nil
}

// parseEntry reads one tensor record {"dtype", "shape", "data_offsets"}.
// Unknown fields are skipped, as the reference implementation does; each
// known field must appear exactly once.
func parseEntry(dec *json.Decoder, name string) (entry, error) {
	e := entry{name: name}
	bad := func(msg string) error { return formatErr(fmt.Sprintf("tensor %q: %s", name, msg)) }
	tok, err := dec.Token()
	if err != nil {
		return e, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return e, bad("record is not an object")
	}
	var haveDtype, haveShape, haveOffsets bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, jsonErr(err)
		}
		field := tok.(string)
		switch field {
		case "dtype":
			if haveDtype {
				return e, bad("duplicate field dtype")
			}
			haveDtype = true
			tok, err := dec.Token()
			if err != nil {
				return e, jsonErr(err)
			}
			dt, ok := tok.(string)
			if !ok {
				return e, bad("dtype is not a string")
			}
			if _, ok := dtypeSize[dt]; !ok {
				if knownUnsupported[dt] {
					return e, bad(fmt.Sprintf("dtype %s is not supported (no float32 conversion)", dt))
				}
				return e, bad(fmt.Sprintf("unknown dtype %q", truncate(dt)))
			}
			e.dtype = dt
		case "shape":
			if haveShape {
				return e, bad("duplicate field shape")
			}
			haveShape = true
			dims, err := parseUints(dec, "shape", -1, bad)
			if err != nil {
				return e, err
			}
			e.shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt {
					return e, bad(fmt.Sprintf("dimension %d is too large", d))
				}
				e.shape[i] = int(d)
			}
		case "data_offsets":
			if haveOffsets {
				return e, bad("duplicate field data_offsets")
			}
			haveOffsets = true
			offs, err := parseUints(dec, "data_offsets", 2, bad)
			if err != nil {
				return e, err
			}
			e.begin, e.end = offs[0], offs[1]
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return e, jsonErr(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return e, jsonErr(err)
	}
	switch {
	case !haveDtype:
		return e, bad("missing dtype")
	case !haveShape:
		return e, bad("missing shape")
	case !haveOffsets:
		return e, bad("missing data_offsets")
	}
	return e, nil
}

// parseUints reads a JSON array of non-negative integers; want >= 0 fixes its
// length.
func parseUints(dec *json.Decoder, what string, want int, bad func(string) error) ([]uint64, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, bad(what + " is not an array")
	}
	var out []uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, bad(what + " holds a non-number")
		}
		v, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			if len(num) > 0 && num[0] == '-' {
				return nil, bad(fmt.Sprintf("%s holds a negative value %s", what, truncate(string(num))))
			}
			return nil, bad(fmt.Sprintf("%s holds %s, not a 64-bit unsigned integer", what, truncate(string(num))))
		}
		if want >= 0 && len(out) == want {
			return nil, bad(fmt.Sprintf("%s has more than %d entries", what, want))
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	}
	if want >= 0 && len(out) != want {
		return nil, bad(fmt.Sprintf("%s has %d entries, want %d", what, len(out), want))
	}
	return out, nil
}

// checkLayout enforces the reference implementation's rules: each tensor's
// byte span matches its shape and dtype (without overflow), the spans sorted
// by offset are contiguous from 0 with no overlap and no hole, and they end
// exactly at the end of the file.
func checkLayout(entries []entry, dataLen uint64) error {
	for i := range entries {
		e := &entries[i]
		if e.end < e.begin {
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] end before they begin", e.name, e.begin, e.end))
		}
		if e.end > dataLen {
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] run past the data section (%d bytes)",
				e.name, e.begin, e.end, dataLen))
		}
		n := uint64(1)
		for _, d := range e.shape {
			hi, lo := bits.Mul64(n, uint64(d))
			if hi != 0 {
				return formatErr(fmt.Sprintf("tensor %q: shape %v overflows", e.name, e.shape))
			}
			n = lo
		}
		// The float32 result takes 4 bytes per element: on 32-bit
		// platforms a large 1- or 2-byte tensor must be refused here, not
		// by a panic in make.
		if n > math.MaxInt/4 {
			return formatErr(fmt.Sprintf("tensor %q: shape %v is too large to load as float32 on this platform", e.name, e.shape))
		}
		hi, nbytes := bits.Mul64(n, uint64(dtypeSize[e.dtype]))
		if hi != 0 || nbytes != e.end-e.begin {
			return formatErr(fmt.Sprintf("tensor %q: shape %v of %s does not match data_offsets [%d, %d] (%d bytes)",
				e.name, e.shape, e.dtype, e.begin, e.end, e.end-e.begin))
		}
		e.elems = int(n)
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := &entries[i], &entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		return a.end < b.end
	})
	pos := uint64(0)
	for i := range entries {
		e := &entries[i]
		if e.begin != pos {
			if e.begin < pos {
				return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] overlap the previous tensor (ending at %d)",
					e.name, e.begin, e.end, pos))
			}
			return formatErr(fmt.Sprintf("tensor %q: data_offsets [%d, %d] leave a hole after offset %d",
				e.name, e.begin, e.end, pos))
		}
		pos = e.end
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

func jsonErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return formatErr("invalid JSON header: " + err.Error())
}

// truncate shortens attacker-controlled strings quoted in error messages.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
