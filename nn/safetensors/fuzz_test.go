package safetensors

import (
	"bytes"
	"errors"
	"math"
	"os"
	"reflect"
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
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
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
