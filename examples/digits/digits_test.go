package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDigits(t *testing.T) {
	all, err := loadDigits(digitsCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1797 {
		t.Fatalf("%d images, want 1797", len(all))
	}
	var counts [numDigits]int
	for _, s := range all {
		counts[s.label]++
	}
	for d, c := range counts {
		if c < 170 || c > 190 {
			t.Errorf("digit %d: %d images, want about 180", d, c)
		}
	}
	// The first line of the file: a zero.
	want := [16]int{0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0}
	if all[0].label != 0 || [16]int(all[0].pixels[:16]) != want {
		t.Errorf("first image: label %d, pixels %v", all[0].label, all[0].pixels[:16])
	}
	train, val := split(all, 1000, 1)
	if len(train) != 1000 || len(val) != 797 {
		t.Fatalf("split: %d / %d", len(train), len(val))
	}
	train2, _ := split(all, 1000, 1)
	if train[0] != train2[0] || train[999] != train2[999] {
		t.Error("split is not reproducible")
	}

	tk := pixelTokens
	ids := make([]int, 2*tk.seqLen)
	labels := make([]int, 2)
	tk.batch(all, []int{1, 0}, ids, labels)
	if ids[0] != tk.cls || ids[tk.seqLen] != tk.cls || ids[tk.seqLen+3] != 5 || labels[1] != 0 {
		t.Errorf("batch: ids %v labels %v", ids[:8], labels)
	}
}

func TestParseDigitsErrors(t *testing.T) {
	for _, bad := range []string{"1,2,3\n", strings.Repeat("0,", 64) + "10\n", strings.Repeat("17,", 64) + "1\n",
		strings.Repeat("x,", 64) + "1\n"} {
		if _, err := parseDigits(strings.NewReader(bad)); err == nil {
			t.Errorf("parseDigits accepted %.20q…", bad)
		}
	}
}

// TestRunSmall runs the whole program on a small budget: it must print the
// table and write a PNG.
func TestRunSmall(t *testing.T) {
	out := filepath.Join(t.TempDir(), "curves.png")
	o := options{epochs: 2, batch: 16, nTrain: 64, nVal: 64, embed: 16, heads: 2, ff: 32, layers: 1, lr: 3e-3, seed: 1,
		rates: []float32{0, 0.3}, out: out, tok: pixelTokens}
	var buf bytes.Buffer
	if err := runAll(o, &buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"kernels backend:", "epoch  2/2", "final results", "0.3 ", "learning curves written"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 300 {
		t.Errorf("PNG is %v, too small to read", b)
	}
}
