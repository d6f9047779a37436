package transformer

import (
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/nn/safetensors"
)

// trainTinyClassifier trains a tutorial classifier (no positions, so its
// keys are exactly the PyTorch class's) for a few Adam steps with dropout
// on, and returns it with a batch of ids.
func trainTinyClassifier(t *testing.T) (*Classifier, Config, []int, int, int) {
	t.Helper()
	nn.ManualSeed(11)
	c := Config{VocabSize: 50, EmbedDim: 16, NumHeads: 4, FFDim: 32, NumClasses: 5, NumLayers: 2}
	c.AttnDropout, c.FFNDropout, c.ResidDropout = 0.1, 0.1, 0.1
	m, err := NewClassifier(c)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewAdam(nn.Parameters(m), 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	const batch, seq = 4, 7
	rng := rand.New(rand.NewPCG(1, 1))
	ids := make([]int, batch*seq)
	labels := make([]int, batch)
	for i := range ids {
		ids[i] = rng.IntN(c.VocabSize)
	}
	for i := range labels {
		labels[i] = rng.IntN(c.NumClasses)
	}
	ce := nn.NewCrossEntropyLoss()
	g := nn.NewGraph()
	var first, last float32
	for step := range 20 {
		g.Reset()
		loss := ce.Forward(g, m.Forward(g, ids, batch, seq), labels)
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
		opt.ZeroGrad()
		loss.Backward()
		opt.Step()
	}
	if !(last < first/2) {
		t.Fatalf("training did not fit one batch: loss %g -> %g", first, last)
	}
	nn.Eval(m)
	return m, c, ids, batch, seq
}

// TestSaveLoadRoundTrip: a trained model saved with Save and rebuilt with
// LoadClassifier gives bit-identical logits and the same config.
func TestSaveLoadRoundTrip(t *testing.T) {
	m, c, ids, batch, seq := trainTinyClassifier(t)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := SaveClassifier(path, m); err != nil {
		t.Fatal(err)
	}
	m2, err := LoadClassifier(path)
	if err != nil {
		t.Fatal(err)
	}
	if c2 := m2.Config(); c2 != c {
		t.Errorf("config after the round trip %+v, want %+v", c2, c)
	}
	nn.Eval(m2)
	if a, b := m.Forward(nil, ids, batch, seq).Data, m2.Forward(nil, ids, batch, seq).Data; !equal(a, b) {
		t.Fatalf("logits differ after save/load:\n%v\n%v", a, b)
	}
	// strict loading: a model of another shape is refused and left unchanged.
	c.FFDim = 64
	other, err := NewClassifier(c)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), other.Embedding.Weight.Data...)
	if err := nn.LoadFile(path, other, nn.Strict); err == nil {
		t.Fatal("Load accepted a file whose ff.0.weight has another shape")
	}
	if !equal(before, other.Embedding.Weight.Data) {
		t.Fatal("a failed Load modified the model")
	}
}

// TestGoToPyTorch: a model trained in Go, saved, and loaded by PyTorch's
// tutorial class (scripts/torch_load_check.py) gives the same logits.
// The PyTorch → Go direction is TestGoldenClassifier: PyTorch's weights give
// PyTorch's logits here.
func TestGoToPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PyTorch")
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install python3-torch): %v", py, err)
	}
	m, _, ids, batch, seq := trainTinyClassifier(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.safetensors")
	if err := SaveClassifier(model, m); err != nil {
		t.Fatal(err)
	}
	logits := m.Forward(nil, ids, batch, seq)
	fids := make([]float32, len(ids))
	for i, v := range ids {
		fids[i] = float32(v)
	}
	check := filepath.Join(dir, "logits.safetensors")
	if err := safetensors.SaveFile(check, map[string]safetensors.Tensor{
		"ids":    {Shape: []int{batch, seq}, F32: fids},
		"logits": {Shape: logits.Shape, F32: logits.Data},
	}, nil); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join("..", "scripts", "torch_load_check.py"), model, check, "--atol", "1e-5").CombinedOutput()
	t.Logf("torch_load_check.py:\n%s", out)
	if err != nil {
		t.Fatalf("PyTorch disagrees: %v", err)
	}
}
