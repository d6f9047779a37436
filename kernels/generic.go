package kernels

// generic is the pure-Go backend "purego": the readable reference that every
// other backend must match bit for bit (CANONICAL.md), and the fallback on
// every architecture without assembly or with -tags purego.
var generic = impl{
	name:                 "purego",
	gemm:                 genericGemm,
	exp:                  expGeneric,
	relu:                 reluGeneric,
	reluBackward:         reluBackwardGeneric,
	gelu:                 geluGeneric,
	geluBackward:         geluBackwardGeneric,
	geluTanh:             geluTanhGeneric,
	geluTanhBackward:     geluTanhBackwardGeneric,
	add:                  addGeneric,
	sub:                  subGeneric,
	mul:                  mulGeneric,
	scale:                scaleGeneric,
	axpy:                 axpyGeneric,
	dot:                  dotGeneric,
	sum:                  sumGeneric,
	max:                  maxGeneric,
	dropout:              dropoutGeneric,
	dropoutMask:          dropoutMaskGeneric,
	softmaxRow:           softmaxRowGeneric,
	softmaxBackwardRow:   softmaxBackwardRowGeneric,
	attnScoreRow:         attnScoreRowGeneric,
	attnExpRow:           attnExpRowGeneric,
	attnGradRow:          attnGradRowGeneric,
	layerNormRow:         layerNormRowGeneric,
	layerNormBackwardRow: layerNormBackwardRowGeneric,
	adamUpdate:           adamUpdateGeneric,
}
