package peak

import (
	"fmt"
	"math"
	"slices"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Sweep measures the one-thread copy bandwidth at working sets (source plus
// destination) from 8 KiB to 256 MiB in steps of √2, with the widest copy
// kernel. Its knees are the cache sizes (see Knees); virtual machines often
// hide them from cpuid and sysfs.
func Sweep(opt Options) []schema.CopyPeak {
	return sweep(opt, 8<<10, 256<<20)
}

func sweep(opt Options, from, to int64) []schema.CopyPeak {
	opt.fill()
	k := copyKernels[len(copyKernels)-1]
	var out []schema.CopyPeak
	for i := 0; ; i++ {
		bytes := int64(float64(from)*math.Pow(math.Sqrt2, float64(i))) &^ 511
		if bytes > to {
			break
		}
		opt.progress("copy sweep %s", sizeName(bytes))
		out = append(out, schema.CopyPeak{Bytes: bytes, ISA: k.isa, Threads: 1, GBps: copyRate(opt, k, bytes, 1)})
	}
	return out
}

func sizeName(b int64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
}

// Knees finds the cache capacities in a bandwidth sweep: the working sets at
// which the bandwidth falls from one plateau to the next. A plateau is a run
// of at least two consecutive points within 20% of the run's first point;
// the knee between two plateaus is the last working set whose bandwidth is
// still above their geometric mean. The result is in increasing order; the
// last plateau (usually DRAM) has no knee after it.
func Knees(sweep []schema.CopyPeak) []int64 {
	pts := slices.Clone(sweep)
	slices.SortFunc(pts, func(a, b schema.CopyPeak) int { return int(a.Bytes - b.Bytes) })
	type plateau struct {
		first, last int
		level       float64 // median bandwidth
	}
	var ps []plateau
	for i := 0; i < len(pts); {
		j := i + 1
		for j < len(pts) && pts[j].GBps >= 0.8*pts[i].GBps && pts[j].GBps <= 1.25*pts[i].GBps {
			j++
		}
		if j-i >= 2 {
			vals := make([]float64, 0, j-i)
			for _, p := range pts[i:j] {
				vals = append(vals, p.GBps)
			}
			slices.Sort(vals)
			ps = append(ps, plateau{i, j - 1, vals[len(vals)/2]})
		}
		i = j
	}
	var knees []int64
	for k := 0; k+1 < len(ps); k++ {
		a, b := ps[k], ps[k+1]
		if b.level >= 0.8*a.level { // not a real drop: one plateau split by noise
			continue
		}
		mid := math.Sqrt(a.level * b.level)
		knee := pts[a.last].Bytes
		for i := a.last; i < b.first && pts[i].GBps >= mid; i++ {
			knee = pts[i].Bytes
		}
		knees = append(knees, knee)
	}
	return knees
}

// FillCaches completes the L2 and L3 sizes of c that are unknown (0) from
// the knees of a sweep and lists them in c.Measured. The first knee at or
// below the L1 data cache's size (when known) is L1's; the next knee is L2
// and the one after it L3. When the sweep shows no knee for a level, the
// level stays unknown.
func FillCaches(c schema.Cache, sweep []schema.CopyPeak) schema.Cache {
	knees := Knees(sweep)
	l1 := int64(c.L1D)
	if l1 <= 0 {
		l1 = 32 << 10
	}
	// Drop the L1 knee: anything up to twice L1 (the sweep's √2 grid and a
	// gradual fall put it a step either side).
	for len(knees) > 0 && knees[0] <= 2*l1 {
		knees = knees[1:]
	}
	if c.L2 > 0 {
		for len(knees) > 0 && knees[0] <= 2*int64(c.L2) {
			knees = knees[1:]
		}
	} else if len(knees) > 0 {
		c.L2 = int(knees[0])
		c.Measured = append(c.Measured, "l2")
		knees = knees[1:]
	}
	if c.L3 <= 0 && len(knees) > 0 && c.L2 > 0 {
		c.L3 = int(knees[0])
		c.Measured = append(c.Measured, "l3")
	}
	return c
}
