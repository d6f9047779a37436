package cases

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/kernels"
)

func TestCaseList(t *testing.T) {
	all := All()
	if len(all) < 10 {
		t.Fatalf("only %d cases", len(all))
	}
	groups := map[string]bool{}
	for _, c := range all {
		groups[c.Group] = true
		if c.Unit != schema.GFLOPS && c.Unit != schema.GBps {
			t.Errorf("%s: unit %q", c.Name, c.Unit)
		}
		if !(c.Work > 0) || c.WorkingSet <= 0 || c.Setup == nil {
			t.Errorf("%s: work %v, working set %d", c.Name, c.Work, c.WorkingSet)
		}
		if !strings.HasPrefix(c.Name, c.Group) {
			t.Errorf("%s: not in group %s", c.Name, c.Group)
		}
	}
	for _, g := range []string{"gemm", "softmax", "layernorm", "dropout", "gelu"} {
		if !groups[g] {
			t.Errorf("no %s case", g)
		}
	}
	quick, _ := Select(true, "")
	if len(quick) == 0 || len(quick) >= len(all) {
		t.Errorf("%d quick cases of %d", len(quick), len(all))
	}
	sel, err := Select(false, "^gemm")
	if err != nil || len(sel) == 0 || !slices.ContainsFunc(sel, func(c Case) bool { return c.Peers != nil }) {
		t.Errorf("Select gemm: %v %d", err, len(sel))
	}
	if _, err := Select(false, "("); err == nil {
		t.Error("bad regexp accepted")
	}
}

// TestSetupAndRun runs every small case once under every implementation,
// which checks the shapes passed to the kernels.
func TestSetupAndRun(t *testing.T) {
	for _, c := range All() {
		limit := 3e8
		if testing.Short() {
			limit = 3e7 // qemu
		}
		if c.Unit == schema.GFLOPS && c.Work > limit || c.WorkingSet > 64<<20 {
			continue // too slow under purego for a unit test
		}
		for _, impl := range c.Impls() {
			restore, err := Prepare(impl, 1)
			if err != nil {
				t.Fatal(err)
			}
			op, err := c.Setup(impl)
			if err != nil {
				t.Errorf("%s %s: %v", c.Name, impl, err)
			} else {
				op()
			}
			restore()
		}
		if _, err := c.Setup("no-such-impl"); err == nil {
			t.Errorf("%s: unknown impl accepted", c.Name)
		}
	}
}

func TestPrepareRestores(t *testing.T) {
	b, procs, threads := kernels.Backend(), runtime.GOMAXPROCS(0), kernels.Threads()
	restore, err := Prepare("purego", 1)
	if err != nil {
		t.Fatal(err)
	}
	if kernels.Backend() != "purego" || runtime.GOMAXPROCS(0) != 1 || kernels.Threads() != 1 {
		t.Errorf("Prepare: backend %s, GOMAXPROCS %d, threads %d", kernels.Backend(), runtime.GOMAXPROCS(0), kernels.Threads())
	}
	restore()
	if kernels.Backend() != b || runtime.GOMAXPROCS(0) != procs || kernels.Threads() != threads {
		t.Errorf("restore: backend %s, GOMAXPROCS %d, threads %d", kernels.Backend(), runtime.GOMAXPROCS(0), kernels.Threads())
	}
	if _, err := Prepare("no-such-backend-xyz", 1); err != nil {
		t.Errorf("a peer name must not fail Prepare: %v", err)
	}
}
