package main

import (
	"fmt"
	"math"
	"strings"
)

// formatTensor prints data of the given shape the way PyTorch prints a
// tensor: four decimals, columns aligned, and, for tensors of more than
// 1000 elements, only the first and last three entries of each dimension.
func formatTensor(data []float32, shape []int) string {
	summarize := len(data) > 1000
	width := 0
	for _, v := range data {
		width = max(width, len(fmtVal(v)))
	}
	var b strings.Builder
	b.WriteString("tensor(")
	formatDim(&b, data, shape, summarize, width, len("tensor("))
	b.WriteString(")")
	return b.String()
}

func fmtVal(v float32) string {
	switch {
	case math.IsInf(float64(v), -1):
		return "-inf"
	case math.IsInf(float64(v), 1):
		return "inf"
	}
	return fmt.Sprintf("%.4f", v)
}

func formatDim(b *strings.Builder, data []float32, shape []int, summarize bool, width, indent int) {
	if len(shape) == 0 {
		b.WriteString(fmtVal(data[0]))
		return
	}
	n := shape[0]
	inner := 1
	for _, d := range shape[1:] {
		inner *= d
	}
	idx := make([]int, 0, n)
	for i := range n {
		if summarize && n > 6 && i >= 3 && i < n-3 {
			if i == 3 {
				idx = append(idx, -1) // the ellipsis
			}
			continue
		}
		idx = append(idx, i)
	}
	b.WriteByte('[')
	for k, i := range idx {
		if k > 0 {
			if len(shape) == 1 {
				b.WriteString(", ")
			} else {
				b.WriteString(",")
				b.WriteString(strings.Repeat("\n", len(shape)-1))
				b.WriteString(strings.Repeat(" ", indent+1))
			}
		}
		if i < 0 {
			b.WriteString("...")
			continue
		}
		if len(shape) == 1 {
			b.WriteString(fmt.Sprintf("%*s", width, fmtVal(data[i])))
		} else {
			formatDim(b, data[i*inner:(i+1)*inner], shape[1:], summarize, width, indent+1)
		}
	}
	b.WriteByte(']')
}
