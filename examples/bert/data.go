package main

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/simdformer/simdformer/tokenizer"
)

// example is one labelled text.
type example struct {
	label int
	text  string
}

// dataset is a labelled train/validation split with its label names.
type dataset struct {
	labels     []string
	train, val []example
}

// parseLabelled reads "label<TAB>text" lines (blank lines and lines
// starting with # skipped). Labels are numbered in sorted order.
func parseLabelled(r io.Reader) (labels []string, exs []example, err error) {
	type raw struct{ label, text string }
	var rows []raw
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	seen := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		label = strings.TrimSpace(label)
		if !ok || label == "" || strings.TrimSpace(text) == "" {
			return nil, nil, fmt.Errorf("line %d: want label<TAB>text", n)
		}
		rows = append(rows, raw{label, text})
		if !seen[label] {
			seen[label] = true
			labels = append(labels, label)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(labels) < 2 {
		return nil, nil, fmt.Errorf("%d labels: need at least 2", len(labels))
	}
	sort.Strings(labels)
	id := map[string]int{}
	for i, l := range labels {
		id[l] = i
	}
	for _, r := range rows {
		exs = append(exs, example{id[r.label], r.text})
	}
	return labels, exs, nil
}

// splitExamples shuffles exs with seed and keeps a fraction valFrac (at
// least one example) for validation.
func splitExamples(exs []example, valFrac float64, seed uint64) (train, val []example) {
	exs = append([]example(nil), exs...)
	rng := rand.New(rand.NewPCG(seed, 7))
	rng.Shuffle(len(exs), func(i, j int) { exs[i], exs[j] = exs[j], exs[i] })
	n := max(1, int(float64(len(exs))*valFrac))
	if n >= len(exs) {
		n = len(exs) - 1
	}
	return exs[n:], exs[:n]
}

// language is one class of the built-in task: where its files are.
type language struct {
	name  string
	roots []string // directories searched recursively
	exts  []string // file name suffixes
}

// languages lists Go (GOROOT's source), Python (the standard library under
// /usr/lib/python3*) and C (GOROOT's .c files, /usr/include's headers).
func languages(goroot string) []language {
	py, _ := filepath.Glob("/usr/lib/python3*")
	sort.Strings(py)
	return []language{
		{"go", []string{filepath.Join(goroot, "src")}, []string{".go"}},
		{"python", py, []string{".py"}},
		{"c", []string{filepath.Join(goroot, "src"), "/usr/include"}, []string{".c", ".h"}},
	}
}

// listFiles returns the sorted files under roots with one of the suffixes,
// skipping Python's third-party package directories.
func listFiles(roots, exts []string) []string {
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: skip
			}
			if d.IsDir() {
				if n := d.Name(); n == "site-packages" || n == "dist-packages" || n == "__pycache__" {
					return filepath.SkipDir
				}
				return nil
			}
			for _, e := range exts {
				if strings.HasSuffix(path, e) && d.Type().IsRegular() {
					files = append(files, path)
					break
				}
			}
			return nil
		})
	}
	sort.Strings(files)
	return files
}

// snippet returns lines consecutive non-blank lines of src starting at a
// random one (at most maxChars), or "" when the file is too short.
func snippet(src string, lines, maxChars int, rng *rand.Rand) string {
	var ls []string
	for _, l := range strings.Split(src, "\n") {
		if strings.TrimSpace(l) != "" {
			ls = append(ls, strings.TrimRight(l, " \t\r"))
		}
	}
	if len(ls) < lines {
		return ""
	}
	start := rng.IntN(len(ls) - lines + 1)
	s := strings.Join(ls[start:start+lines], "\n")
	if len(s) > maxChars {
		s = s[:maxChars]
	}
	if len(strings.TrimSpace(s)) < 40 {
		return ""
	}
	return s
}

// isVal puts a file in the validation set (about one file in seven), so
// that no file gives snippets to both sets.
func isVal(path string) bool {
	h := fnv.New32a()
	h.Write([]byte(path))
	return h.Sum32()%7 == 0
}

// codeDataset builds the built-in task: perLang snippets of `lines`
// non-blank lines from each language found on this machine, labelled by
// language, split by file into training and validation. Languages with no
// files are skipped (and reported in skipped); fewer than two is an error.
func codeDataset(goroot string, perLang, lines int, seed uint64) (d dataset, skipped []string, err error) {
	rng := rand.New(rand.NewPCG(seed, 11))
	for _, lang := range languages(goroot) {
		files := listFiles(lang.roots, lang.exts)
		if len(files) == 0 {
			skipped = append(skipped, lang.name)
			continue
		}
		label := len(d.labels)
		got := 0
		for tries := 0; got < perLang && tries < 4*perLang; tries++ {
			path := files[rng.IntN(len(files))]
			b, err := os.ReadFile(path)
			if err != nil || len(b) > 4<<20 {
				continue
			}
			s := snippet(string(b), lines, 600, rng)
			if s == "" {
				continue
			}
			if isVal(path) {
				d.val = append(d.val, example{label, s})
			} else {
				d.train = append(d.train, example{label, s})
			}
			got++
		}
		if got == 0 {
			skipped = append(skipped, lang.name)
			continue
		}
		d.labels = append(d.labels, lang.name)
	}
	if len(d.labels) < 2 {
		return d, skipped, fmt.Errorf("found source files for %d languages (%v); need 2", len(d.labels), d.labels)
	}
	return d, skipped, nil
}

// encoded is the tokenized dataset: each example's ids and token types,
// truncated to maxLen.
type encoded struct {
	ids, types [][]int
	labels     []int
}

func encode(tok *tokenizer.WordPiece, exs []example, maxLen int) encoded {
	texts := make([]string, len(exs))
	var e encoded
	for i, x := range exs {
		texts[i] = x.text
		e.labels = append(e.labels, x.label)
	}
	for _, enc := range tok.EncodeBatch(texts, nil, tokenizer.BatchOptions{MaxLength: maxLen, Truncate: true}) {
		e.ids = append(e.ids, enc.IDs)
		e.types = append(e.types, enc.TypeIDs)
	}
	return e
}

// batcher assembles right-padded batches into buffers it reuses.
type batcher struct {
	pad                int
	ids, types, labels []int
	mask               []bool
}

// batch fills the buffers with examples idx of e padded to the longest and
// returns the batch size and sequence length.
func (b *batcher) batch(e encoded, idx []int) (n, seq int) {
	for _, i := range idx {
		seq = max(seq, len(e.ids[i]))
	}
	n = len(idx)
	b.ids, b.types, b.mask = b.ids[:0], b.types[:0], b.mask[:0]
	b.labels = b.labels[:0]
	for _, i := range idx {
		ids := e.ids[i]
		for t := 0; t < seq; t++ {
			if t < len(ids) {
				b.ids, b.types, b.mask = append(b.ids, ids[t]), append(b.types, e.types[i][t]), append(b.mask, true)
			} else {
				b.ids, b.types, b.mask = append(b.ids, b.pad), append(b.types, 0), append(b.mask, false)
			}
		}
		b.labels = append(b.labels, e.labels[i])
	}
	return n, seq
}

// argmaxRows returns the index of the largest value of each row of a
// (rows, cols) matrix.
func argmaxRows(logits []float32, cols int) []int {
	out := make([]int, len(logits)/cols)
	for r := range out {
		row := logits[r*cols : (r+1)*cols]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		out[r] = best
	}
	return out
}
