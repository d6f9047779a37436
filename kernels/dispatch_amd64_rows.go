//go:build amd64 && !purego

package kernels

import "github.com/simdformer/simdformer/kernels/amd64"

// setAVX2Rows installs the AVX2+FMA row and elementwise kernels of kernels/amd64.
func setAVX2Rows(b *impl) {
	b.exp = amd64.ExpAVX2
	b.relu = amd64.ReLUAVX2
	b.reluBackward = amd64.ReLUBackwardAVX2
	b.gelu = amd64.GELUAVX2
	b.geluBackward = amd64.GELUBackwardAVX2
	b.geluTanh = amd64.GELUTanhAVX2
	b.geluTanhBackward = amd64.GELUTanhBackwardAVX2
	b.add = amd64.AddAVX2
	b.sub = amd64.SubAVX2
	b.mul = amd64.MulAVX2
	b.scale = amd64.ScaleAVX2
	b.axpy = amd64.AxpyAVX2
	b.dot = amd64.DotAVX2
	b.sum = amd64.SumAVX2
	b.max = amd64.MaxAVX2
	b.dropout = amd64.DropoutAVX2
	b.dropoutMask = amd64.DropoutMaskAVX2
	b.softmaxRow = amd64.SoftmaxRowAVX2
	b.softmaxBackwardRow = amd64.SoftmaxBackwardRowAVX2
	b.attnScoreRow = amd64.AttnScoreRowAVX2
	b.attnExpRow = amd64.AttnExpRowAVX2
	b.attnGradRow = amd64.AttnGradRowAVX2
	b.layerNormRow = amd64.LayerNormRowAVX2
	b.layerNormBackwardRow = amd64.LayerNormBackwardRowAVX2
	b.adamUpdate = func(p, g, m, v []float32, k adamK) {
		amd64.AdamUpdateAVX2(p, g, m, v, k.decay, k.b1, k.c1, k.b2, k.c2, k.bc2, k.eps, k.step)
	}
}

// setAVX512Rows installs the AVX-512 row and elementwise kernels of kernels/amd64.
func setAVX512Rows(b *impl) {
	b.exp = amd64.ExpAVX512
	b.relu = amd64.ReLUAVX512
	b.reluBackward = amd64.ReLUBackwardAVX512
	b.gelu = amd64.GELUAVX512
	b.geluBackward = amd64.GELUBackwardAVX512
	b.geluTanh = amd64.GELUTanhAVX512
	b.geluTanhBackward = amd64.GELUTanhBackwardAVX512
	b.add = amd64.AddAVX512
	b.sub = amd64.SubAVX512
	b.mul = amd64.MulAVX512
	b.scale = amd64.ScaleAVX512
	b.axpy = amd64.AxpyAVX512
	b.dot = amd64.DotAVX512
	b.sum = amd64.SumAVX512
	b.max = amd64.MaxAVX512
	b.dropout = amd64.DropoutAVX512
	b.dropoutMask = amd64.DropoutMaskAVX512
	b.softmaxRow = amd64.SoftmaxRowAVX512
	b.softmaxBackwardRow = amd64.SoftmaxBackwardRowAVX512
	b.attnScoreRow = amd64.AttnScoreRowAVX512
	b.attnExpRow = amd64.AttnExpRowAVX512
	b.attnGradRow = amd64.AttnGradRowAVX512
	b.layerNormRow = amd64.LayerNormRowAVX512
	b.layerNormBackwardRow = amd64.LayerNormBackwardRowAVX512
	b.adamUpdate = func(p, g, m, v []float32, k adamK) {
		amd64.AdamUpdateAVX512(p, g, m, v, k.decay, k.b1, k.c1, k.b2, k.c2, k.bc2, k.eps, k.step)
	}
}
