package nn_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// TestLoadFileOptions: LoadFile's checks (from the header, before any data
// is read) and options; a failed load leaves the model unchanged.
func TestLoadFileOptions(t *testing.T) {
	lin := nn.Must(nn.NewLinear(2, 3, true)) // weight (3, 2), bias (3)
	dir := t.TempDir()
	save := func(name string, ts map[string]safetensors.Tensor) string {
		p := filepath.Join(dir, name)
		if err := safetensors.SaveFile(p, ts, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w := safetensors.Tensor{Shape: []int{3, 2}, F32: []float32{1, 2, 3, 4, 5, 6}}
	b := safetensors.Tensor{Shape: []int{3}, F32: []float32{7, 8, 9}}
	extra := save("extra", map[string]safetensors.Tensor{"weight": w, "bias": b, "other": {Shape: []int{1}, F32: []float32{0}}})
	missing := save("missing", map[string]safetensors.Tensor{"weight": w})
	shape := save("shape", map[string]safetensors.Tensor{"weight": {Shape: []int{2, 3}, F32: w.F32}, "bias": b})
	before := append([]float32(nil), lin.Weight.Data...)
	unchanged := func(what string) {
		t.Helper()
		for i, v := range lin.Weight.Data {
			if v != before[i] {
				t.Fatalf("%s modified the model", what)
			}
		}
	}
	for _, c := range []struct {
		path string
		opt  nn.LoadOptions
		want string // "" for success
	}{
		{extra, nn.Strict, "unexpected keys [other]"},
		{missing, nn.Strict, "missing keys [bias]"},
		{shape, nn.NonStrict, "weight has shape [2 3] in the file, the model wants [3 2]"},
		{missing, nn.LoadOptions{AllowUnexpected: true}, "missing keys [bias]"},
		{extra, nn.LoadOptions{AllowMissing: true}, "unexpected keys [other]"},
	} {
		err := nn.LoadFile(c.path, lin, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadFile(%s, %+v) = %v, want an error containing %q", filepath.Base(c.path), c.opt, err, c.want)
		}
		unchanged(filepath.Base(c.path))
	}
	if err := nn.LoadFile(missing, lin, nn.LoadOptions{AllowMissing: true}); err != nil {
		t.Fatal(err)
	}
	if lin.Weight.Data[5] != 6 || lin.Bias.Data[0] == 7 {
		t.Fatalf("AllowMissing load: weight %v bias %v", lin.Weight.Data, lin.Bias.Data)
	}
	if err := nn.LoadFile(extra, lin, nn.LoadOptions{AllowUnexpected: true}); err != nil {
		t.Fatal(err)
	}
	if lin.Bias.Data[2] != 9 {
		t.Fatalf("AllowUnexpected load: bias %v", lin.Bias.Data)
	}
}
