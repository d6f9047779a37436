package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/simdformer/simdformer/bench/internal/schema"
)

// Headline writes the README table of one results file in Markdown: per
// case and thread count, the default backend's rate and fraction of peak,
// then the peers and the pure-Go backend, and the speed-up over the first
// peer (gonum) where there is one.
func Headline(w io.Writer, f *schema.File) {
	m := &f.Machine
	var others []string
	for _, r := range f.Records {
		if r.Impl != m.Backend && !isBackend(f, r.Impl) && !slices.Contains(others, r.Impl) {
			others = append(others, r.Impl)
		}
	}
	peer := ""
	if len(others) > 0 {
		peer = others[0]
	}
	if m.Backend != "purego" && slices.ContainsFunc(f.Records, func(r schema.Record) bool { return r.Impl == "purego" }) {
		others = append(others, "purego")
	}
	head := []string{"case", "threads", fmt.Sprintf("simdformer (%s)", m.Backend), "% of peak"}
	head = append(head, others...)
	if peer != "" {
		head = append(head, "vs "+peer)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, k := range rowKeys(f) {
		main := f.Find(schema.Key{Case: k.c, Impl: m.Backend, Threads: k.t})
		if main == nil {
			continue
		}
		cols := []string{"`" + k.c + "`", fmt.Sprint(k.t), rateUnit(main), "-"}
		if main.PeakFraction > 0 {
			cols[3] = fmt.Sprintf("%.0f%%", 100*main.PeakFraction)
		}
		for _, o := range others {
			cols = append(cols, rateUnit(f.Find(schema.Key{Case: k.c, Impl: o, Threads: k.t})))
		}
		if peer != "" {
			p := f.Find(schema.Key{Case: k.c, Impl: peer, Threads: k.t})
			s := "-"
			if p != nil && p.Skipped == "" && main.Skipped == "" && p.Rate.Median > 0 {
				s = fmt.Sprintf("%.1f×", main.Rate.Median/p.Rate.Median)
			}
			cols = append(cols, s)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cols, " | "))
	}
}

func rateUnit(r *schema.Record) string {
	switch {
	case r == nil:
		return "-"
	case r.Skipped != "":
		return "skipped"
	}
	return Rate(r.Rate.Median) + " " + r.Unit
}
