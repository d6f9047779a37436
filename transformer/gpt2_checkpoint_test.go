package transformer

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
)

// resumeRun is a small fine-tuning loop: GPT-2 with dropout 0.1 in
// training mode, AdamW with decay groups, warmup + cosine schedule, gradient
// clipping, batches read from a fixed token stream at a data position.
type resumeRun struct {
	m    *LM
	opt  *optim.Adam
	g    *nn.Graph
	ce   *nn.CrossEntropyLoss
	sch  optim.WarmupCosine
	st   TrainState
	data []int
}

const resumeB, resumeT = 2, 8

func newResumeRun(t *testing.T) *resumeRun {
	t.Helper()
	m, err := LoadGPT2(filepath.Join(gpt2Dir, "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	nn.Train(m)            // dropout 0.1 at every site
	nn.SeedDropout(m, 123) // a reproducible run: every run draws the same masks
	r := &resumeRun{m: m, g: nn.NewGraph(), ce: nn.NewCrossEntropyLoss(),
		sch: optim.WarmupCosine{BaseLR: 3e-3, MinLR: 1e-4, Warmup: 2, Total: 8}}
	r.opt = nn.Must(optim.NewAdamWGroups(optim.DecayGroups(m, 0.1), r.sch.LR(0)))
	for i := 0; i < 400; i++ {
		r.data = append(r.data, (i*i*7+i*13)%97)
	}
	return r
}

func (r *resumeRun) step() {
	n := resumeB*resumeT + 1
	p := int(r.st.DataPosition) % (len(r.data) - n)
	ids := r.data[p : p+resumeB*resumeT]
	targets := r.data[p+1 : p+1+resumeB*resumeT]
	r.g.Reset()
	loss := r.ce.Forward(r.g, r.m.ForwardWith(r.g, Tokens{IDs: ids, Batch: resumeB, Seq: resumeT}, LMOptions{}), targets)
	r.opt.ZeroGrad()
	loss.Backward()
	optim.ClipGradNorm(r.opt.Params, 1)
	r.opt.LR = r.sch.LR(r.st.Step)
	r.opt.Step()
	r.st.Step++
	r.st.DataPosition += int64(resumeB * resumeT)
}

func paramBits(m nn.Module) []uint32 {
	var out []uint32
	for _, p := range nn.Parameters(m) {
		for _, v := range p.Data {
			out = append(out, math.Float32bits(v))
		}
	}
	return out
}

// TestCheckpointExactResume: k steps, a checkpoint, a fresh model and
// optimizer loaded from it and the remaining steps give bit for bit the
// parameters of an uninterrupted run.
func TestCheckpointExactResume(t *testing.T) {
	const total, k = 6, 3
	full := newResumeRun(t)
	for range total {
		full.step()
	}
	want := paramBits(full.m)

	first := newResumeRun(t)
	for range k {
		first.step()
	}
	first.st.Extra = map[string]string{"shuffle": "pcg:42"}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := SaveCheckpoint(path, first.m, first.opt, first.g, first.st); err != nil {
		t.Fatal(err)
	}

	resumed := newResumeRun(t) // a fresh process: dropout counters at 0, no moments
	st, err := LoadCheckpoint(path, resumed.m, resumed.opt, resumed.g)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != k || st.DataPosition != int64(k*resumeB*resumeT) || st.Extra["shuffle"] != "pcg:42" {
		t.Fatalf("train state %+v", st)
	}
	resumed.st = st
	for range total - k {
		resumed.step()
	}
	got := paramBits(resumed.m)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resumed run differs from the uninterrupted one at parameter value %d", i)
		}
	}

	// The test can fail: without the graph's dropout step the continuation
	// differs.
	noDrop := newResumeRun(t)
	if _, err := LoadCheckpoint(path, noDrop.m, noDrop.opt, nil); err != nil {
		t.Fatal(err)
	}
	noDrop.st = st // its graph starts at dropout step 0: the first steps' masks again
	for range total - k {
		noDrop.step()
	}
	same := true
	for i, b := range paramBits(noDrop.m) {
		if b != want[i] {
			same = false
			break
		}
	}
	if same {
		t.Fatal("restarting the dropout step did not change the run: the test does not see it")
	}
}

func TestLoadCheckpointErrors(t *testing.T) {
	r := newResumeRun(t)
	r.step()
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := SaveCheckpoint(path, r.m, r.opt, r.g, r.st); err != nil {
		t.Fatal(err)
	}
	// Another architecture.
	other, err := LoadGPT2(filepath.Join(gpt2Dir, "untied"))
	if err != nil {
		t.Fatal(err)
	}
	before := paramBits(other)
	if _, err := LoadCheckpoint(path, other, nil, nil); err == nil {
		t.Fatal("a checkpoint of another architecture loaded")
	}
	for i, b := range paramBits(other) {
		if b != before[i] {
			t.Fatal("a failed LoadCheckpoint changed the model")
		}
	}
	// An optimizer over other parameters.
	sgd := nn.Must(optim.NewSGD(nn.Parameters(r.m), 0.1))
	if _, err := LoadCheckpoint(path, r.m, sgd, nil); err == nil {
		t.Fatal("Adam state loaded into SGD")
	}
	// Not a checkpoint.
	if _, err := LoadCheckpoint(filepath.Join(gpt2Dir, "tiny", "model.safetensors"), r.m, nil, nil); err == nil {
		t.Fatal("a model file loaded as a checkpoint")
	}
}
