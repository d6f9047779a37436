package kernels

// borrowedKernels maps each registered backend to the names of the kernels
// fillFrom took from the pure-Go backend for it. Guarded by registryMu.
var borrowedKernels = map[*impl][]string{}

// kernelNames lists every kernel of impl, in declaration order: "gemm" and
// then one name per row-kernel field. TestKernelNamesCoverImpl keeps it in
// step with the struct.
var kernelNames = []string{
	"gemm",
	"exp", "relu", "reluBackward", "gelu", "geluBackward", "geluTanh", "geluTanhBackward",
	"add", "sub", "mul", "scale", "axpy",
	"dot", "sum", "max",
	"dropout", "dropoutMask",
	"softmaxRow", "softmaxBackwardRow",
	"attnScoreRow", "attnExpRow", "attnGradRow",
	"layerNormRow", "layerNormBackwardRow",
	"adamUpdate",
}

// fillFrom copies into b every kernel that b leaves nil, from base, so a
// backend under construction can register before it implements everything,
// and records which ones it copied (see ownKernels). The caller holds
// registryMu.
func fillFrom(b, base *impl) {
	var took []string
	if b.gemm.kern == nil {
		b.gemm = base.gemm
		took = append(took, "gemm")
	}
	took = orBase(took, "exp", &b.exp, base.exp, b.exp == nil)
	took = orBase(took, "relu", &b.relu, base.relu, b.relu == nil)
	took = orBase(took, "reluBackward", &b.reluBackward, base.reluBackward, b.reluBackward == nil)
	took = orBase(took, "gelu", &b.gelu, base.gelu, b.gelu == nil)
	took = orBase(took, "geluBackward", &b.geluBackward, base.geluBackward, b.geluBackward == nil)
	took = orBase(took, "geluTanh", &b.geluTanh, base.geluTanh, b.geluTanh == nil)
	took = orBase(took, "geluTanhBackward", &b.geluTanhBackward, base.geluTanhBackward, b.geluTanhBackward == nil)
	took = orBase(took, "add", &b.add, base.add, b.add == nil)
	took = orBase(took, "sub", &b.sub, base.sub, b.sub == nil)
	took = orBase(took, "mul", &b.mul, base.mul, b.mul == nil)
	took = orBase(took, "scale", &b.scale, base.scale, b.scale == nil)
	took = orBase(took, "axpy", &b.axpy, base.axpy, b.axpy == nil)
	took = orBase(took, "dot", &b.dot, base.dot, b.dot == nil)
	took = orBase(took, "sum", &b.sum, base.sum, b.sum == nil)
	took = orBase(took, "max", &b.max, base.max, b.max == nil)
	took = orBase(took, "dropout", &b.dropout, base.dropout, b.dropout == nil)
	took = orBase(took, "dropoutMask", &b.dropoutMask, base.dropoutMask, b.dropoutMask == nil)
	took = orBase(took, "softmaxRow", &b.softmaxRow, base.softmaxRow, b.softmaxRow == nil)
	took = orBase(took, "softmaxBackwardRow", &b.softmaxBackwardRow, base.softmaxBackwardRow, b.softmaxBackwardRow == nil)
	took = orBase(took, "attnScoreRow", &b.attnScoreRow, base.attnScoreRow, b.attnScoreRow == nil)
	took = orBase(took, "attnExpRow", &b.attnExpRow, base.attnExpRow, b.attnExpRow == nil)
	took = orBase(took, "attnGradRow", &b.attnGradRow, base.attnGradRow, b.attnGradRow == nil)
	took = orBase(took, "layerNormRow", &b.layerNormRow, base.layerNormRow, b.layerNormRow == nil)
	took = orBase(took, "layerNormBackwardRow", &b.layerNormBackwardRow, base.layerNormBackwardRow, b.layerNormBackwardRow == nil)
	took = orBase(took, "adamUpdate", &b.adamUpdate, base.adamUpdate, b.adamUpdate == nil)
	if b != base {
		borrowedKernels[b] = took
	}
}

// orBase sets *dst = src when missing (the caller's dst == nil: Go cannot
// compare a generic func value with nil) and then appends name to took.
func orBase[F any](took []string, name string, dst *F, src F, missing bool) []string {
	if !missing {
		return took
	}
	*dst = src
	return append(took, name)
}

// ownKernels lists the kernels of b that are its own code rather than
// borrowed from the pure-Go backend (tests use it to prove a backend is
// complete). The pure-Go backend owns all of its kernels.
func ownKernels(b *impl) (own, borrowed []string) {
	registryMu.Lock()
	borrowed = append(borrowed, borrowedKernels[b]...)
	registryMu.Unlock()
	for _, name := range kernelNames {
		taken := false
		for _, t := range borrowed {
			taken = taken || t == name
		}
		if !taken {
			own = append(own, name)
		}
	}
	return own, borrowed
}
