package tokenizer

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/simdformer/simdformer/internal/jsonstr"
)

// parseVocabJSON parses a JSON object whose values are integers ({"token": id, ...}), the
// format of encoder.json and vocab.json, calling f for every member in file order. It is a
// small dedicated parser: encoding/json's reflection takes most of the load time otherwise.
func parseVocabJSON(data []byte, f func(key string, id int64) error) error {
	p := jsonParser{data: data}
	p.space()
	if !p.eat('{') {
		return p.errorf("want '{'")
	}
	p.space()
	if p.eat('}') {
		return p.end()
	}
	for {
		p.space()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return p.errorf("want ':'")
		}
		p.space()
		id, err := p.integer()
		if err != nil {
			return err
		}
		if err := f(key, id); err != nil {
			return err
		}
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return p.end()
		}
		return p.errorf("want ',' or '}'")
	}
}

type jsonParser struct {
	data []byte
	i    int
	buf  []byte
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JSON offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) eat(c byte) bool {
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) end() error {
	p.space()
	if p.i != len(p.data) {
		return p.errorf("data after the object")
	}
	return nil
}

func (p *jsonParser) integer() (int64, error) {
	start := p.i
	p.eat('-')
	digits := p.i
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || (p.data[digits] == '0' && p.i > digits+1) {
		return 0, p.errorf("want an integer id (JSON: no leading zeros)")
	}
	if p.i < len(p.data) {
		switch p.data[p.i] {
		case '.', 'e', 'E':
			return 0, p.errorf("want an integer id")
		}
	}
	v, err := strconv.ParseInt(string(p.data[start:p.i]), 10, 64)
	if err != nil {
		return 0, p.errorf("want an integer id: %v", err)
	}
	return v, nil
}

// str parses a JSON string: escapes (\uXXXX with surrogate pairs) decoded, raw control
// characters and invalid UTF-8 rejected.
func (p *jsonParser) str() (string, error) {
	if !p.eat('"') {
		return "", p.errorf("want a string")
	}
	start := p.i
	for p.i < len(p.data) { // fast path: no escapes
		c := p.data[p.i]
		if c == '"' {
			s := p.data[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	b, next, msg := jsonstr.Decode(append(p.buf[:0], p.data[start:p.i]...), p.data, p.i, true)
	p.i, p.buf = next, b
	if msg != "" {
		return "", p.errorf("%s", msg)
	}
	if !utf8.Valid(b) {
		return "", p.errorf("invalid UTF-8 in a string")
	}
	return string(b), nil
}
