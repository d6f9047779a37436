package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/simdformer/simdformer/bench/internal/cases"
	"github.com/simdformer/simdformer/bench/internal/schema"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want schema.Stats
	}{
		{[]float64{3, 1, 2}, schema.Stats{Median: 2, Min: 1, Max: 3}},
		{[]float64{4, 1, 3, 2}, schema.Stats{Median: 2.5, Min: 1, Max: 4}},
		{[]float64{7}, schema.Stats{Median: 7, Min: 7, Max: 7}},
		{nil, schema.Stats{}},
	} {
		if got := Summarize(tc.in); got != tc.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestTimeRepsAndCalibration(t *testing.T) {
	n := 0
	op := func() { n++ }
	ns, iters, skip := Time(op, Options{Reps: 4, MinTime: time.Millisecond})
	if skip != "" || len(ns) != 4 || iters < 2 {
		t.Fatalf("Time = %d reps, %d iters, skip %q", len(ns), iters, skip)
	}
	if n < 4*iters {
		t.Errorf("op ran %d times, want at least %d", n, 4*iters)
	}
	for _, v := range ns {
		if !(v > 0) {
			t.Errorf("ns/op %v", v)
		}
	}
}

func TestTimeBudgetAndMaxOp(t *testing.T) {
	slow := func() { time.Sleep(3 * time.Millisecond) }
	ns, _, skip := Time(slow, Options{Reps: 5, MinTime: time.Millisecond, Budget: time.Millisecond})
	if skip != "" || len(ns) != 1 {
		t.Errorf("budget: %d reps, skip %q; want 1 rep", len(ns), skip)
	}
	_, _, skip = Time(slow, Options{Reps: 5, MinTime: time.Millisecond, MaxOp: time.Millisecond})
	if !strings.Contains(skip, "over the 1ms limit") {
		t.Errorf("MaxOp: skip = %q", skip)
	}
}

func TestRunRecords(t *testing.T) {
	cs, err := cases.Select(true, "^softmax/128x512$")
	if err != nil || len(cs) != 1 {
		t.Fatalf("Select: %v, %d cases", err, len(cs))
	}
	opt := Options{Threads: []int{1, 2}, Reps: 2, MinTime: time.Millisecond, Impls: []string{"purego"}}
	p := &schema.Peak{Copy: []schema.CopyPeak{{Level: "L2", Bytes: 1 << 20, Threads: 1, GBps: 100}}}
	var seen []string
	opt.OnRecord = func(r *schema.Record) { seen = append(seen, Line(r)) }
	recs := Run(cs, opt, p)
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2 (purego × 2 thread counts)", len(recs))
	}
	if len(seen) != len(recs) {
		t.Fatalf("OnRecord called %d times for %d records", len(seen), len(recs))
	}
	for i := range recs {
		if want := Line(&recs[i]); seen[i] != want {
			t.Errorf("OnRecord %d saw %q, want %q", i, seen[i], want)
		}
	}
	for _, r := range recs {
		if r.Impl != "purego" || r.Skipped != "" || r.Reps != 2 || r.Unit != schema.GBps {
			t.Errorf("record %+v", r)
		}
		if r.Rate.Median <= 0 || r.Rate.Min > r.Rate.Median || r.Rate.Median > r.Rate.Max {
			t.Errorf("rates %+v", r.Rate)
		}
		if got := r.Work / r.NsPerOp.Median; got != r.Rate.Median {
			t.Errorf("rate %v != work/ns %v", r.Rate.Median, got)
		}
	}
	if recs[0].PeakRef != "copy/L2/1t" || recs[0].PeakFraction <= 0 {
		t.Errorf("1-thread peak %q %v", recs[0].PeakRef, recs[0].PeakFraction)
	}
	if recs[1].PeakRef != "" {
		t.Errorf("2-thread record got peak %q without a 2-thread peak", recs[1].PeakRef)
	}
	f := schema.File{Format: schema.Format, Version: schema.Version, Records: recs}
	if err := f.Validate(); err != nil {
		t.Error(err)
	}
}

func TestMeasureBadImpl(t *testing.T) {
	cs, _ := cases.Select(false, "^softmax/128x512$")
	r := Measure(&cs[0], "gonum", 1, Options{Reps: 1, MinTime: time.Millisecond})
	if r.Skipped == "" {
		t.Errorf("softmax under gonum was not skipped: %+v", r)
	}
	r = Measure(&cs[0], "nosuchbackend", 1, Options{Reps: 1, MinTime: time.Millisecond})
	if r.Skipped == "" {
		t.Errorf("unknown impl not skipped: %+v", r)
	}
}

func TestEstimate(t *testing.T) {
	c := &cases.Case{Unit: schema.GFLOPS, Work: 2e9}
	if got := estimate(c, 1); got != 2*time.Second {
		t.Errorf("estimate = %v, want 2s", got)
	}
	if got := estimate(c, 0); got != 0 {
		t.Errorf("unknown rate: %v", got)
	}
	if got := estimate(&cases.Case{Unit: schema.GBps, Work: 1e12}, 1); got != 0 {
		t.Errorf("GB/s case: %v", got)
	}
}
