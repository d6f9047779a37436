package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load. It must never panic; whatever it
// accepts must be self-consistent and survive a Save/Load round trip bit for
// bit (NaN payloads included). Malformed input must give an ErrFormat error.
func FuzzLoad(f *testing.F) {
	var seeds [][]byte
	add := func(tensors map[string]Tensor, meta map[string]string) {
		var buf bytes.Buffer
		if err := Save(&buf, tensors, meta); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	add(nil, nil)
	add(map[string]Tensor{"a": {Shape: []int{2, 2}, F32: []float32{1, -2, float32(math.Inf(1)), float32(math.NaN())}}},
		map[string]string{"format": "pt"})
	add(map[string]Tensor{
		"h":      {DType: "F16", Shape: []int{3}, F32: []float32{1, 65504, 6e-8}},
		"b":      {DType: "BF16", Shape: []int{1, 2}, F32: []float32{3, -0.5}},
		"s":      {Shape: []int{}, F32: []float32{7}},
		"e":      {Shape: []int{0, 3}, F32: []float32{}},
		"x.y.z9": {Shape: []int{1, 1, 1}, F32: []float32{2}},
	}, map[string]string{"k": "v", "": ""})
	seeds = append(seeds,
		rawFile(`{"i":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"m":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]}}`,
			[]byte{5, 0, 0, 0, 0, 0, 0, 0, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0}),
		rawFile(`{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"d":{"dtype":"F64","shape":[1],"data_offsets":[2,10]}}`,
			[]byte{0x38, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}))
	// Hostile and tricky headers: escapes, surrogates, unknown nested
	// fields, rank at and past MaxRank, deep nesting.
	seeds = append(seeds,
		rawFile(`{"__metadata__":{"k\u00e9\ud83d\ude00\ud800x":"v\n\"\/"},"a\tb":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":[{"y":[true,false,null,-1.5e+3]}]}}`, make([]byte, 4)),
		rawFile(`{"a":{"dtype":"U8","shape":[`+strings.Repeat("1,", MaxRank-1)+`1],"data_offsets":[0,1]}}`, []byte{7}),
		rawFile(`{"a":{"dtype":"U8","shape":[`+strings.Repeat("1,", MaxRank)+`1],"data_offsets":[0,1]}}`, []byte{7}),
		rawFile(`{"a":{"x":`+strings.Repeat("[", 1001)+strings.Repeat("]", 1001)+`}}`, nil),
		rawFile(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"f":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}}`, nil))
	if b, err := os.ReadFile("../../testdata/nn/linear.safetensors"); err == nil {
		seeds = append(seeds, b)
	}
	for _, s := range seeds {
		f.Add(s)
		for _, cut := range []int{1, 7, 8, 9, len(s) / 2, len(s) - 1} { // truncations
			if cut < len(s) {
				f.Add(s[:cut])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, meta, err := Load(bytes.NewReader(data), int64(len(data)))
		var hdr []byte // the header, when its length field is in range
		if len(data) >= 8 {
			if n := binary.LittleEndian.Uint64(data); n <= uint64(len(data)-8) {
				hdr = data[8 : 8+n]
			}
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		// The hand-written header parser agrees with encoding/json: what it
		// accepts is valid JSON, and decodes to the same names and metadata.
		if !json.Valid(hdr) {
			t.Fatalf("accepted a header that is not valid JSON: %q", hdr)
		}
		var std map[string]json.RawMessage
		if err := json.Unmarshal(hdr, &std); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if m, ok := std["__metadata__"]; ok {
			var want map[string]string
			if err := json.Unmarshal(m, &want); err != nil || !reflect.DeepEqual(want, meta) && !(len(want) == 0 && len(meta) == 0) {
				t.Fatalf("metadata %q, encoding/json reads %q (%v)", meta, want, err)
			}
			delete(std, "__metadata__")
		}
		if len(std) != len(tensors) {
			t.Fatalf("%d tensors, encoding/json sees %d keys", len(tensors), len(std))
		}
		for name := range std {
			if _, ok := tensors[name]; !ok {
				t.Fatalf("encoding/json reads a key %q the parser does not have", name)
			}
		}
		for name, tt := range tensors {
			if len(tt.F32) != tt.NumElements() {
				t.Fatalf("%q: %d values for shape %v", name, len(tt.F32), tt.Shape)
			}
			tt.DType = "F32"
			tensors[name] = tt
		}
		var buf bytes.Buffer
		if err := Save(&buf, tensors, meta); err != nil {
			t.Fatalf("re-Save of a loaded file: %v", err)
		}
		again, meta2, err := Load(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("re-Load: %v", err)
		}
		if len(meta) > 0 && !reflect.DeepEqual(meta, meta2) {
			t.Fatalf("metadata %v became %v", meta, meta2)
		}
		if len(again) != len(tensors) {
			t.Fatalf("%d tensors became %d", len(tensors), len(again))
		}
		for name, tt := range tensors {
			got := again[name]
			if len(got.Shape) != len(tt.Shape) || (len(tt.Shape) > 0 && !reflect.DeepEqual(got.Shape, tt.Shape)) {
				t.Fatalf("%q: shape %v became %v", name, tt.Shape, got.Shape)
			}
			for i := range tt.F32 {
				if math.Float32bits(got.F32[i]) != math.Float32bits(tt.F32[i]) {
					t.Fatalf("%q[%d]: %#x became %#x", name, i, math.Float32bits(tt.F32[i]), math.Float32bits(got.F32[i]))
				}
			}
		}
	})
}

// FuzzHeaderJSON wraps arbitrary bytes as a header (no data): whatever is
// not valid JSON must be refused with ErrFormat, never a panic.
func FuzzHeaderJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"__metadata__":{"a":"b"}}`, `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`,
		`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"u":{"v":[1,2,{"w":"\u12"}]}}}`, `{"\ud800":1}`,
		`{"a":{"shape":[01],"dtype":"F32","data_offsets":[0,0]}}`, `{"a":{"x":[1,]}}`, `{"a":{"x":{"y":1,}}}`, `{"a":{"x":tru}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		file := rawFile(string(hdr), nil)
		_, _, err := Load(bytes.NewReader(file), int64(len(file)))
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		if err == nil && !json.Valid(hdr) {
			t.Fatalf("accepted invalid JSON %q", hdr)
		}
	})
}
