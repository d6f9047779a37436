package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// sameBits reports whether a and b hold the same float32 bits, treating any
// two NaNs as equal; i is the first mismatch.
func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return min(len(a), len(b)), false
	}
	for i := range a {
		if a[i] != a[i] || b[i] != b[i] {
			if (a[i] != a[i]) != (b[i] != b[i]) {
				return i, false
			}
			continue
		}
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

func saveBytes(t *testing.T, tensors map[string]Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Save(&buf, tensors, meta); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return buf.Bytes()
}

func loadBytes(b []byte) (map[string]Tensor, map[string]string, error) {
	return Load(bytes.NewReader(b), int64(len(b)))
}

func randTensor(r *rand.Rand, shape ...int) Tensor {
	t := Tensor{Shape: shape}
	t.F32 = make([]float32, t.NumElements())
	for i := range t.F32 {
		t.F32[i] = float32(r.NormFloat64())
	}
	return t
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := map[string]Tensor{
		"scalar":          randTensor(r),
		"empty":           randTensor(r, 0),
		"empty3":          randTensor(r, 3, 0, 2),
		"w":               randTensor(r, 4, 5),
		"layers.0.weight": randTensor(r, 2, 3, 4),
		"ünïcode \"q\"":   randTensor(r, 3),
		"specials": {Shape: []int{6}, F32: []float32{float32(math.Inf(1)), float32(math.Inf(-1)),
			math.Float32frombits(0x7fc00001), math.Float32frombits(0x80000000), math.Float32frombits(1), math.MaxFloat32}},
	}
	meta := map[string]string{"format": "pt", "note": "quotes \" and <html> & \n newline"}
	b := saveBytes(t, in, meta)
	out, gotMeta, err := loadBytes(b)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("metadata = %v, want %v", gotMeta, meta)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d tensors, want %d", len(out), len(in))
	}
	for name, want := range in {
		got, ok := out[name]
		if !ok {
			t.Fatalf("tensor %q missing", name)
		}
		if got.DType != "F32" || !reflect.DeepEqual(got.Shape, want.Shape) && !(len(got.Shape) == 0 && len(want.Shape) == 0) {
			t.Errorf("%q: dtype %s shape %v, want F32 %v", name, got.DType, got.Shape, want.Shape)
		}
		for i := range want.F32 { // bit-exact, NaN payloads included
			if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
				t.Errorf("%q[%d] = %#x, want %#x", name, i, math.Float32bits(got.F32[i]), math.Float32bits(want.F32[i]))
			}
		}
	}
	// No metadata: none written, nil returned.
	out2, meta2, err := loadBytes(saveBytes(t, map[string]Tensor{"a": randTensor(r, 2)}, nil))
	if err != nil || meta2 != nil || len(out2) != 1 {
		t.Errorf("no-metadata round trip: %v %v %v", out2, meta2, err)
	}
	// No tensors at all.
	out3, _, err := loadBytes(saveBytes(t, nil, nil))
	if err != nil || len(out3) != 0 {
		t.Errorf("empty file round trip: %v %v", out3, err)
	}
}

func TestSaveLayout(t *testing.T) {
	in := map[string]Tensor{
		"b":    {Shape: []int{2}, F32: []float32{1, 2}},
		"a":    {Shape: []int{1}, F32: []float32{3}},
		"half": {DType: "F16", Shape: []int{3}, F32: []float32{1, 2, 3}},
		"bf":   {DType: "BF16", Shape: []int{1}, F32: []float32{-2}},
	}
	b := saveBytes(t, in, map[string]string{"z": "1", "y": "2"})
	if !bytes.Equal(b, saveBytes(t, in, map[string]string{"y": "2", "z": "1"})) {
		t.Fatal("Save is not deterministic")
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	hdr := string(b[8 : 8+n])
	want := `{"__metadata__":{"y":"2","z":"1"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"bf":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},` +
		`"half":{"dtype":"F16","shape":[3],"data_offsets":[14,20]}}`
	if strings.TrimRight(hdr, " ") != want || len(hdr)-len(want) >= 8 {
		t.Errorf("header\n%q\nwant (space padded)\n%q", hdr, want)
	}
	if len(b) != 8+int(n)+20 {
		t.Errorf("file is %d bytes, want %d", len(b), 8+int(n)+20)
	}
	out, _, err := loadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if out["half"].DType != "F16" || !reflect.DeepEqual(out["half"].F32, []float32{1, 2, 3}) || out["bf"].F32[0] != -2 {
		t.Errorf("F16/BF16 round trip: %+v %+v", out["half"], out["bf"])
	}
}

// TestResaveGoldens re-saves every all-F32 golden file written by the Python
// scripts and expects the very same bytes: both writers follow the reference
// layout (order, compact JSON, space padding).
func TestResaveGoldens(t *testing.T) {
	files := goldenFiles(t)
	resaved := 0
	for _, path := range files {
		tensors, meta, err := LoadFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		allF32 := true
		for _, tt := range tensors {
			allF32 = allF32 && tt.DType == "F32"
		}
		if !allF32 {
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := saveBytes(t, tensors, meta); !bytes.Equal(got, want) {
			t.Errorf("%s: re-saved bytes differ from the Python writer's", path)
		}
		resaved++
	}
	if resaved < 10 {
		t.Errorf("only %d all-F32 golden files re-saved", resaved)
	}
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../../testdata/nn", "../../testdata/transformer", "testdata"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".safetensors") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatalf("walking %s: %v", dir, err)
		}
	}
	if len(files) == 0 {
		t.Fatal("no golden files found")
	}
	return files
}

// TestGoldenFiles checks that every golden file loads and carries the
// metadata the READMEs promise.
func TestGoldenFiles(t *testing.T) {
	for _, path := range goldenFiles(t) {
		tensors, meta, err := LoadFile(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if filepath.Base(filepath.Dir(path)) == "testdata" {
			continue
		}
		stem := strings.TrimSuffix(filepath.Base(path), ".safetensors")
		if meta["case"] != stem || meta["torch"] == "" || meta["config"] == "" {
			t.Errorf("%s: metadata %v", path, meta)
		}
		for name, tt := range tensors {
			if len(tt.F32) != tt.NumElements() {
				t.Errorf("%s: %s has %d values for shape %v", path, name, len(tt.F32), tt.Shape)
			}
		}
	}
}

func TestTorchDtypes(t *testing.T) {
	ts, _, err := LoadFile("testdata/torch_dtypes.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	get := func(name, dtype string) Tensor {
		t.Helper()
		x, ok := ts[name]
		if !ok || x.DType != dtype {
			t.Fatalf("tensor %q: %+v, want dtype %s", name, x.DType, dtype)
		}
		return x
	}
	check := func(what string, got, want []float32) {
		t.Helper()
		if i, ok := sameBits(got, want); !ok {
			t.Errorf("%s: element %d = %g (%#x), PyTorch %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	src := get("src", "F32").F32
	// Reading: F16, BF16, F64 and integer tensors decode to what PyTorch's .float() gives.
	check("F16 read", get("src.f16", "F16").F32, get("f16.as_f32", "F32").F32)
	check("BF16 read", get("src.bf16", "BF16").F32, get("bf16.as_f32", "F32").F32)
	check("F64 read", get("f64", "F64").F32, get("f64.as_f32", "F32").F32)
	for _, it := range []struct{ name, dtype string }{{"i64", "I64"}, {"i32", "I32"}, {"i16", "I16"}, {"i8", "I8"}, {"u8", "U8"}, {"bool", "BOOL"}} {
		check(it.dtype+" read", get(it.name, it.dtype).F32, get(it.name+".as_f32", "F32").F32)
	}
	// Writing: our float32 -> F16/BF16 rounding equals PyTorch's.
	f16 := make([]float32, len(src))
	bf16 := make([]float32, len(src))
	for i, v := range src {
		f16[i] = F16ToF32(F32ToF16(v))
		bf16[i] = BF16ToF32(F32ToBF16(v))
	}
	check("F32->F16 rounding", f16, get("f16.as_f32", "F32").F32)
	check("F32->BF16 rounding", bf16, get("bf16.as_f32", "F32").F32)
}

// f16Ref is binary16 -> float64 straight from the definition.
func f16Ref(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0x1f:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case 0:
		return sign * math.Ldexp(m, -24)
	}
	return sign * math.Ldexp(1024+m, e-25)
}

func TestF16Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := F16ToF32(h)
		want := f16Ref(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("F16ToF32(%#04x) = %g, want NaN", h, got)
			}
			if back := F32ToF16(got); back != h {
				t.Fatalf("NaN payload %#04x came back as %#04x", h, back)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("F16ToF32(%#04x) = %g, want %g", h, got, want)
		}
		if back := F32ToF16(got); back != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, back)
		}
	}
}

// TestF16Rounding checks every tie between adjacent binary16 values and the
// float32 values just beside it.
func TestF16Rounding(t *testing.T) {
	for i := 0; i < 0x7c00; i++ { // positive finite h; h+1 may be +Inf
		lo, hi := uint16(i), uint16(i+1)
		mid := float32((f16Ref(lo) + f16Ref(hi)) / 2)
		if i == 0x7bff {
			mid = 65520 // halfway to the next (virtual) binary16 value
		}
		even := lo
		if lo&1 == 1 {
			even = hi
		}
		for _, c := range []struct {
			x    float32
			want uint16
		}{{mid, even}, {math.Nextafter32(mid, 0), lo}, {math.Nextafter32(mid, 1e9), hi}} {
			if got := F32ToF16(c.x); got != c.want {
				t.Fatalf("F32ToF16(%g) = %#04x, want %#04x", c.x, got, c.want)
			}
			if got := F32ToF16(-c.x); got != c.want|0x8000 {
				t.Fatalf("F32ToF16(%g) = %#04x, want %#04x", -c.x, got, c.want|0x8000)
			}
		}
	}
	for _, c := range []struct {
		x    float32
		want uint16
	}{{1e-8, 0}, {2.9802322e-08, 0}, {2.9802326e-08, 1}, {1e10, 0x7c00}, {float32(math.Inf(-1)), 0xfc00}, {math.SmallestNonzeroFloat32, 0}} {
		if got := F32ToF16(c.x); got != c.want {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.x, got, c.want)
		}
	}
}

func TestBF16(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToF32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToF32(%#04x) = %#x", h, math.Float32bits(f))
		}
		if f != f {
			if g := BF16ToF32(F32ToBF16(f)); g == g {
				t.Fatalf("NaN %#04x lost", h)
			}
			continue
		}
		if back := F32ToBF16(f); back != h {
			t.Fatalf("F32ToBF16(BF16ToF32(%#04x)) = %#04x", h, back)
		}
		if h&0x7f80 == 0x7f80 || h == 0x7f7f || h == 0xff7f {
			continue
		}
		// Ties go to even; just beside the tie goes to the nearer value.
		mid := math.Float32frombits(uint32(h)<<16 | 0x8000)
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		if got := F32ToBF16(mid); got != even {
			t.Fatalf("F32ToBF16(tie %#x) = %#04x, want %#04x", math.Float32bits(mid), got, even)
		}
		if got := F32ToBF16(math.Float32frombits(uint32(h)<<16 | 0x8001)); got != h+1 {
			t.Fatalf("above tie of %#04x rounds to %#04x", h, got)
		}
	}
}

func TestF8(t *testing.T) {
	// E5M2 is binary16 with 8 low zero bits.
	for i := 0; i < 256; i++ {
		if got, want := decodeOne(t, "F8_E5M2", []byte{byte(i)}), F16ToF32(uint16(i)<<8); math.Float32bits(got) != math.Float32bits(want) && want == want {
			t.Errorf("E5M2 %#02x = %g, want %g", i, got, want)
		}
	}
	for _, c := range []struct {
		b    byte
		want float64
	}{{0x00, 0}, {0x01, math.Ldexp(1, -9)}, {0x07, 7 * math.Ldexp(1, -9)}, {0x08, math.Ldexp(1, -6)},
		{0x38, 1}, {0x7e, 448}, {0xfe, -448}, {0xb8, -1}, {0x40, 2}, {0x3c, 1.5}} {
		if got := decodeOne(t, "F8_E4M3", []byte{c.b}); float64(got) != c.want {
			t.Errorf("E4M3 %#02x = %g, want %g", c.b, got, c.want)
		}
	}
	if got := decodeOne(t, "F8_E4M3", []byte{0x7f}); got == got {
		t.Errorf("E4M3 0x7f = %g, want NaN", got)
	}
}

func decodeOne(t *testing.T, dtype string, raw []byte) float32 {
	t.Helper()
	b := rawFile(fmt.Sprintf(`{"x":{"dtype":%q,"shape":[],"data_offsets":[0,%d]}}`, dtype, len(raw)), raw)
	out, _, err := loadBytes(b)
	if err != nil {
		t.Fatalf("%s: %v", dtype, err)
	}
	return out["x"].F32[0]
}

// rawFile builds a file from a header string and a data section.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestLoadErrors(t *testing.T) {
	f32 := func(n int) []byte { return make([]byte, 4*n) }
	okHdr := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"short", "shorter than the 8-byte", []byte{1, 2, 3}},
		{"huge header length", "exceeds the limit", binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"header past EOF", "exceeds the 3 bytes", append(binary.LittleEndian.AppendUint64(nil, 50), "{}x"...)},
		{"not utf8", "UTF-8", rawFile("{\"\xff\":1}", nil)},
		{"no brace", "start with '{'", rawFile(` {}`, nil)},
		{"array", "start with '{'", rawFile(`[]`, nil)},
		{"empty header", "start with '{'", rawFile(``, nil)},
		{"bad json", "invalid JSON", rawFile(`{"a":`, nil)},
		{"bad json 2", "invalid JSON", rawFile(`{"a" 1}`, nil)},
		{"trailing", "trailing data", rawFile(`{} {}`, nil)},
		{"nul padding", "trailing data", rawFile("{}\x00\x00", nil)},
		{"duplicate tensor", "duplicate key \"a\"", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2))},
		{"duplicate metadata", "duplicate key \"__metadata__\"", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil)},
		{"duplicate metadata key", "duplicate __metadata__ key", rawFile(`{"__metadata__":{"k":"1","k":"2"}}`, nil)},
		{"metadata value", "not a string", rawFile(`{"__metadata__":{"k":1}}`, nil)},
		{"metadata array", "not an object", rawFile(`{"__metadata__":["k"]}`, nil)},
		{"record not object", "record is not an object", rawFile(`{"a":[1]}`, nil)},
		{"unknown dtype", "unknown dtype \"F17\"", rawFile(`{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}`, f32(1))},
		{"unsupported dtype", "C64 is not supported", rawFile(`{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, f32(2))},
		{"dtype not string", "dtype is not a string", rawFile(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, f32(1))},
		{"negative dim", "negative value -2", rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32(2))},
		{"fraction dim", "not a 64-bit unsigned integer", rawFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, f32(2))},
		{"exponent dim", "not a 64-bit unsigned integer", rawFile(`{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, f32(1))},
		{"huge dim", "not a 64-bit unsigned integer", rawFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, f32(1))},
		{"shape not array", "shape is not an array", rawFile(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`, f32(2))},
		{"nested shape", "non-number", rawFile(`{"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}`, f32(2))},
		{"overflow", "overflows|too large", rawFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8]}}`, f32(2))},
		{"byte overflow", "does not match|too large", rawFile(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}`, f32(2))},
		{"size mismatch", "does not match", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32(2))},
		{"one offset", "has 1 entries, want 2", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}`, f32(2))},
		{"three offsets", "more than 2 entries", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, f32(2))},
		{"end before begin", "end before they begin", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32(2))},
		{"past data", "run past the data section", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(2))},
		{"overlap", "overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(3))},
		{"hole", "leave a hole", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32(3))},
		{"hole at start", "leave a hole after offset 0", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2))},
		{"trailing bytes", "cover 8 bytes but the data section has 12", rawFile(okHdr, f32(3))},
		{"missing dtype", "missing dtype", rawFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, f32(2))},
		{"missing shape", "missing shape", rawFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, f32(2))},
		{"missing offsets", "missing data_offsets", rawFile(`{"a":{"dtype":"F32","shape":[2]}}`, f32(2))},
		{"duplicate field", "duplicate field shape", rawFile(`{"a":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}`, f32(2))},
		{"inexact I64", "element 1 of dtype I64 has no exact float32 value",
			rawFile(`{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 3), 1<<24+1))},
		{"inexact U32", "no exact float32", rawFile(`{"a":{"dtype":"U32","shape":[1],"data_offsets":[0,4]}}`, []byte{0xff, 0xff, 0xff, 0xff})},
		{"bool 2", "element 0 of dtype BOOL", rawFile(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{2})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := loadBytes(c.file)
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", c.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			found := false
			for _, w := range strings.Split(c.want, "|") { // alternatives: 32-bit platforms stop earlier
				found = found || strings.Contains(err.Error(), w)
			}
			if !found {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
	// Control: the valid variants of the files above load, unknown fields are skipped.
	for _, b := range [][]byte{rawFile(okHdr, f32(2)), rawFile(okHdr+"     ", f32(2)),
		rawFile(`{"a":{"extra":{"x":[1,{"y":null}]},"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":null}`, f32(2))} {
		if _, _, err := loadBytes(b); err != nil {
			t.Errorf("valid file rejected: %v", err)
		}
	}
}

// shortReader claims a size it does not hold.
type shortReader struct{ b []byte }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(s.b).ReadAt(p, off)
}

func TestLoadLyingSizeAndAllocation(t *testing.T) {
	good := saveBytes(t, map[string]Tensor{"a": {Shape: []int{4}, F32: []float32{1, 2, 3, 4}}}, nil)
	// A reader shorter than the size claimed: an I/O error, no large allocation.
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	if _, _, err := Load(shortReader{good}, 1<<40); err == nil {
		t.Fatal("Load with a lying size succeeded")
	}
	// A header length just under the cap in a tiny file.
	hostile := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize-8)
	hostile = append(hostile, "{}"...)
	if _, _, err := loadBytes(hostile); err == nil || !errors.Is(err, ErrFormat) {
		t.Fatalf("hostile header length: %v", err)
	}
	// A tensor claiming 2^40 elements in a small file.
	huge := rawFile(`{"a":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}`, make([]byte, 16))
	if _, _, err := loadBytes(huge); err == nil {
		t.Fatal("huge tensor accepted")
	}
	runtime.ReadMemStats(&ms1)
	if d := ms1.TotalAlloc - ms0.TotalAlloc; d > 1<<20 {
		t.Errorf("rejecting hostile files allocated %d bytes", d)
	}
}

func TestSaveErrors(t *testing.T) {
	cases := []struct {
		name    string
		tensors map[string]Tensor
		meta    map[string]string
		want    string
	}{
		{"negative", map[string]Tensor{"a": {Shape: []int{-1}}}, nil, "negative dimension"},
		{"mismatch", map[string]Tensor{"a": {Shape: []int{2, 2}, F32: make([]float32, 3)}}, nil, "4 elements) but 3 values"},
		{"dtype", map[string]Tensor{"a": {DType: "I64", Shape: []int{1}, F32: []float32{1}}}, nil, "not \"I64\""},
		{"reserved", map[string]Tensor{"__metadata__": {Shape: []int{1}, F32: []float32{1}}}, nil, "__metadata__"},
		{"utf8 name", map[string]Tensor{"\xff": {Shape: []int{1}, F32: []float32{1}}}, nil, "UTF-8"},
		{"utf8 meta", nil, map[string]string{"k": "\xfe"}, "UTF-8"},
		{"overflow", map[string]Tensor{"a": {Shape: []int{math.MaxInt, math.MaxInt, math.MaxInt}}}, nil, "overflows"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Save(&buf, c.tensors, c.meta)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Save error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestSaveFileLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	in := map[string]Tensor{"w": {Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}}
	if err := SaveFile(path, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	out, meta, err := LoadFile(path)
	if err != nil || meta["format"] != "pt" || !reflect.DeepEqual(out["w"].F32, in["w"].F32) {
		t.Fatalf("LoadFile: %v %v %v", out, meta, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := SaveFile(path, map[string]Tensor{"bad": {Shape: []int{3}}}, nil); err == nil {
		t.Error("SaveFile of a bad tensor succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed SaveFile left files: %v", entries)
	}
	if _, _, err := LoadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v", err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a safetensors file"), 0o644)
	if _, _, err := LoadFile(bad); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadFile(bad) = %v", err)
	}
}

func TestIntegerDtypes(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		dtype string
		raw   []byte
		want  []float32
	}{
		{"U16", le.AppendUint16(le.AppendUint16(nil, 0), 65535), []float32{0, 65535}},
		{"U32", le.AppendUint32(le.AppendUint32(nil, 1<<24), 1<<31), []float32{1 << 24, 1 << 31}},
		{"U64", le.AppendUint64(le.AppendUint64(nil, 3), 1<<63), []float32{3, 1 << 63}},
		{"I32", le.AppendUint32(le.AppendUint32(nil, uint32(0xffffffff)), 1<<30), []float32{-1, 1 << 30}},
		{"I64", le.AppendUint64(le.AppendUint64(nil, 1<<63), 0xfffffffffffffff0), []float32{-(1 << 63), -16}},
		{"I16", le.AppendUint16(le.AppendUint16(nil, 0x8000), 7), []float32{-32768, 7}},
		{"I8", []byte{0x80, 0x7f}, []float32{-128, 127}},
		{"U8", []byte{0, 255}, []float32{0, 255}},
	}
	for _, c := range cases {
		hdr := fmt.Sprintf(`{"x":{"dtype":%q,"shape":[2],"data_offsets":[0,%d]}}`, c.dtype, len(c.raw))
		out, _, err := loadBytes(rawFile(hdr, c.raw))
		if err != nil {
			t.Errorf("%s: %v", c.dtype, err)
			continue
		}
		if !reflect.DeepEqual(out["x"].F32, c.want) || out["x"].DType != c.dtype {
			t.Errorf("%s: got %s %v, want %v", c.dtype, out["x"].DType, out["x"].F32, c.want)
		}
	}
	for _, c := range []struct {
		dtype string
		raw   []byte
	}{
		{"U64", le.AppendUint64(nil, 1<<24+1)},
		{"I32", le.AppendUint32(nil, uint32(0x100000000-(1<<24+1)))},
		{"I64", le.AppendUint64(nil, 0x7fffffffffffffff)},
	} {
		hdr := fmt.Sprintf(`{"x":{"dtype":%q,"shape":[1],"data_offsets":[0,%d]}}`, c.dtype, len(c.raw))
		if _, _, err := loadBytes(rawFile(hdr, c.raw)); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "no exact float32") {
			t.Errorf("%s inexact: %v", c.dtype, err)
		}
	}
}

// TestSaveFileKeepsModeAndLink: saving over a 0600 checkpoint reached
// through a symbolic link keeps the link and the mode, and updates the
// target (the atomic writer is tested in depth in internal/atomicfile).
func TestSaveFileKeepsModeAndLink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits or unprivileged symlinks")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "ckpt.safetensors")
	link := filepath.Join(dir, "latest.safetensors")
	in := map[string]Tensor{"w": {Shape: []int{1}, F32: []float32{1}}}
	if err := SaveFile(target, in, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ckpt.safetensors", link); err != nil {
		t.Fatal(err)
	}
	in["w"].F32[0] = 2
	if err := SaveFile(link, in, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode 0600 became %v", fi.Mode().Perm())
	}
	out, _, err := LoadFile(target)
	if err != nil || out["w"].F32[0] != 2 {
		t.Fatalf("target not updated: %v %v", out, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("directory holds %v", entries)
	}
}

// TestReader: the header is available before any data is read; Read
// decodes one tensor into the caller's slice and checks its length.
func TestReader(t *testing.T) {
	b := saveBytes(t, map[string]Tensor{
		"b": {DType: "F16", Shape: []int{2}, F32: []float32{1, 2}},
		"a": {Shape: []int{1, 3}, F32: []float32{3, 4, 5}},
	}, map[string]string{"k": "v"})
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ts := r.Tensors()
	if len(ts) != 2 || ts[0].Name != "a" || ts[1].Name != "b" || ts[1].DType != "F16" ||
		!reflect.DeepEqual(ts[0].Shape, []int{1, 3}) || ts[0].NumElements() != 3 || r.Metadata()["k"] != "v" {
		t.Fatalf("Tensors %+v, metadata %v", ts, r.Metadata())
	}
	if _, ok := r.Lookup("c"); ok {
		t.Fatal("Lookup found a missing tensor")
	}
	dst := make([]float32, 2)
	if err := r.Read("b", dst); err != nil || dst[1] != 2 {
		t.Fatalf("Read: %v %v", dst, err)
	}
	if err := r.Read("a", dst); err == nil {
		t.Fatal("Read into a slice of the wrong length succeeded")
	}
	if err := r.Read("c", dst); err == nil {
		t.Fatal("Read of a missing tensor succeeded")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
