package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
)

// digitsCSV is the UCI handwritten digits set (see testdata/README.md for
// its attribution): 1,797 lines of 64 pixels 0..16 and a label 0..9.
//
//go:embed testdata/digits.csv.gz
var digitsCSV []byte

const (
	numPixels = 64 // 8×8 images
	numLevels = 17 // pixel intensities 0..16
	numDigits = 10
)

// sample is one image: its 64 pixels (row-major) and its label.
type sample struct {
	pixels [numPixels]int
	label  int
}

// tokenizer describes the token sequence the classifier reads: the
// classification token cls (whose output the head reads), then the pixels.
type tokenizer struct {
	vocab  int // including cls
	seqLen int // including cls
	cls    int
}

// pixelTokens reads an image as 64 tokens, one per pixel, its intensity
// 0..16, after the classification token 17.
var pixelTokens = tokenizer{vocab: numLevels + 1, seqLen: numPixels + 1, cls: numLevels}

// loadDigits parses the gzipped CSV.
func loadDigits(gz []byte) ([]sample, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return parseDigits(zr)
}

func parseDigits(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != numPixels+1 {
			return nil, fmt.Errorf("digits line %d: %d fields, want %d", line, len(fields), numPixels+1)
		}
		var s sample
		for i, f := range fields {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("digits line %d field %d: %v", line, i+1, err)
			}
			if i < numPixels {
				if v < 0 || v >= numLevels {
					return nil, fmt.Errorf("digits line %d: pixel %d out of range 0..16", line, v)
				}
				s.pixels[i] = v
			} else {
				if v < 0 || v >= numDigits {
					return nil, fmt.Errorf("digits line %d: label %d out of range 0..9", line, v)
				}
				s.label = v
			}
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// split shuffles the samples with seed and returns the first nTrain as the
// training set and the rest as the validation set.
func split(all []sample, nTrain int, seed uint64) (train, val []sample) {
	s := append([]sample(nil), all...)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	if nTrain > len(s) {
		nTrain = len(s)
	}
	return s[:nTrain], s[nTrain:]
}

// batch writes the token sequences of samples idx into ids
// (len(idx)·tk.seqLen tokens) and their labels.
func (tk *tokenizer) batch(samples []sample, idx []int, ids, labels []int) {
	for b, i := range idx {
		seq := ids[b*tk.seqLen : (b+1)*tk.seqLen]
		seq[0] = tk.cls
		copy(seq[1:], samples[i].pixels[:])
		labels[b] = samples[i].label
	}
}
