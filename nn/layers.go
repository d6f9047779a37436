package nn

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
)

// LayerNorm normalises x over its last dimension with the biased variance:
// y = (x − mean)/√(var + eps)·w + b (PyTorch's F.layer_norm over one
// dimension). w and b may be nil (no affine / no bias; b needs w).
func (g *Graph) LayerNorm(x, w, b *Tensor, eps float32) *Tensor {
	rows, cols := rowsCols("LayerNorm", x)
	cols = x.Shape[len(x.Shape)-1]
	var gamma, beta []float32
	if w != nil {
		if len(w.Data) != cols {
			panic(shapeErr("LayerNorm", "weight", w.Shape, fmt.Sprintf("(%d) for x %v", cols, x.Shape)))
		}
		gamma = w.Data
	}
	if b != nil {
		if w == nil || len(b.Data) != cols {
			panic(shapeErr("LayerNorm", "bias", b.Shape, fmt.Sprintf("(%d) with a weight, for x %v", cols, x.Shape)))
		}
		beta = b.Data
	}
	out := g.newTensor(x.Shape...)
	rec := g.recording(x, w, b)
	var mean, rstd []float32
	if rec {
		mean, rstd = g.alloc(rows), g.alloc(rows)
	}
	kernels.LayerNorm(out.Data, mean, rstd, x.Data, gamma, beta, rows, cols, eps)
	if rec {
		*record(g, &g.recs.layerNorm, out) = layerNormRec{x: x, w: w, b: b, mean: mean, rstd: rstd, rows: rows, cols: cols}
	}
	return out
}

// layerNormRec: mean and rstd are the per-row statistics of the forward.
type layerNormRec struct {
	x, w, b    *Tensor // w and b may be nil
	mean, rstd []float32
	rows, cols int
}

func (r *layerNormRec) backward(g *Graph, out *Tensor) {
	x, w, b := r.x, r.w, r.b
	rows, cols := r.rows, r.cols
	var gamma, dgamma, dbeta []float32
	if w != nil {
		gamma = w.Data
		if w.RequiresGrad {
			dgamma = g.gradZeroed(w)
		}
	}
	if b != nil && b.RequiresGrad {
		dbeta = g.gradZeroed(b)
	}
	var dx []float32
	done := noop
	if x.RequiresGrad {
		dx, done = g.gradInPlace(x, out)
	} else {
		dx = g.alloc(len(x.Data)) // the kernel always writes dx
	}
	kernels.LayerNormBackward(dx, dgamma, dbeta, out.Grad, x.Data, r.mean, r.rstd, gamma, rows, cols)
	done(g, x, dx)
}

// LayerNorm is nn.LayerNorm over the last dimension: state_dict keys
// "weight" (γ, init 1) and "bias" (β, init 0), both absent without affine.
type LayerNorm struct {
	Weight, Bias *Tensor
	Eps          float32
}

// LayerNormConfig configures NewLayerNorm; the zero value is PyTorch's
// default (eps 1e-5, elementwise affine with bias).
type LayerNormConfig struct {
	Eps      float32 // 0 means 1e-5
	NoAffine bool    // elementwise_affine=False: no weight and no bias
	NoBias   bool    // bias=False: a weight but no bias
}

// NewLayerNorm returns a LayerNorm over a last dimension of size dim.
func NewLayerNorm(dim int, cfg LayerNormConfig) (*LayerNorm, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("nn: NewLayerNorm: dim=%d must be positive", dim)
	}
	if cfg.Eps < 0 || math.IsNaN(float64(cfg.Eps)) {
		return nil, fmt.Errorf("nn: NewLayerNorm: eps=%v must be >= 0", cfg.Eps)
	}
	l := &LayerNorm{Eps: cfg.Eps}
	if l.Eps == 0 {
		l.Eps = 1e-5
	}
	if !cfg.NoAffine {
		l.Weight = NewParam(dim)
		for i := range l.Weight.Data {
			l.Weight.Data[i] = 1
		}
		if !cfg.NoBias {
			l.Bias = NewParam(dim)
		}
	}
	return l, nil
}

// Forward normalises x (..., dim).
func (l *LayerNorm) Forward(g *Graph, x *Tensor) *Tensor {
	return g.LayerNorm(x, l.Weight, l.Bias, l.Eps)
}

// Visit lists "weight" and "bias" when present.
func (l *LayerNorm) Visit(param func(string, *Tensor), child func(string, Module)) {
	if l.Weight != nil {
		param("weight", l.Weight)
	}
	if l.Bias != nil {
		param("bias", l.Bias)
	}
}

// Embedding is nn.Embedding: a (num, dim) table looked up by integer ids
// (state_dict key "weight", init N(0, 1)). The PaddingIdx row (-1: none)
// is zero at init and never receives gradient. MaxNorm > 0 renormalises the
// looked-up rows in place to norm ≤ MaxNorm during Forward (like PyTorch,
// not differentiated). The embedded DropoutSite is word (type) dropout: P
// drops whole vocabulary rows, scaling kept rows by 1/(1-P) (AWD-LSTM's
// embedding dropout), active in training mode.
type Embedding struct {
	Weight     *Tensor
	PaddingIdx int
	MaxNorm    float32
	NormType   float32
	DropoutSite
}

// EmbeddingConfig configures NewEmbedding; the zero value is PyTorch's
// default (no padding index, no max_norm).
type EmbeddingConfig struct {
	UsePadding  bool
	PaddingIdx  int     // with UsePadding; negative counts from the end, like PyTorch
	MaxNorm     float32 // 0: none
	NormType    float32 // 0 means 2
	WordDropout float32 // drop probability of whole vocabulary rows
}

// NewEmbedding returns an Embedding of num rows of size dim.
func NewEmbedding(num, dim int, cfg EmbeddingConfig) (*Embedding, error) {
	if num <= 0 || dim <= 0 {
		return nil, fmt.Errorf("nn: NewEmbedding: num=%d and dim=%d must be positive", num, dim)
	}
	pad := -1
	if cfg.UsePadding {
		pad = cfg.PaddingIdx
		if pad < 0 {
			pad += num
		}
		if pad < 0 || pad >= num {
			return nil, fmt.Errorf("nn: NewEmbedding: padding index %d out of range for %d embeddings", cfg.PaddingIdx, num)
		}
	}
	if cfg.MaxNorm < 0 {
		return nil, fmt.Errorf("nn: NewEmbedding: max_norm=%v must be >= 0", cfg.MaxNorm)
	}
	site, err := newSite("NewEmbedding", cfg.WordDropout)
	if err != nil {
		return nil, err
	}
	e := &Embedding{Weight: NewParam(num, dim), PaddingIdx: pad, MaxNorm: cfg.MaxNorm, NormType: cfg.NormType, DropoutSite: site}
	if e.NormType == 0 {
		e.NormType = 2
	}
	fillNormal(e.Weight.Data, 0, 1)
	if pad >= 0 {
		clear(e.Weight.Data[pad*dim : (pad+1)*dim])
	}
	return e, nil
}

// Forward looks up ids (shape given by shape, default (len(ids))) and
// returns (shape..., dim). It panics on an id out of range. ids must not
// change until Backward.
func (e *Embedding) Forward(g *Graph, ids []int, shape ...int) *Tensor {
	num, dim := e.Weight.Shape[0], e.Weight.Shape[1]
	var buf [6]int
	s := append(buf[:0], shape...)
	if len(shape) == 0 {
		s = append(s, len(ids))
	}
	if numel(s) != len(ids) {
		panic(fmt.Sprintf("nn: Embedding: shape %s for %d ids", shapeStr(shape), len(ids)))
	}
	for _, id := range ids {
		if id < 0 || id >= num {
			panic(fmt.Sprintf("nn: Embedding: id %d out of range for %d embeddings", id, num))
		}
	}
	if e.MaxNorm > 0 {
		e.renorm(ids)
	}
	p, seed := float32(0), uint64(0)
	if e.Active() {
		p, seed = e.P, e.Next(g, "Embedding")
	}
	out := g.newTensor(append(s, dim)...)
	w := e.Weight.Data
	for t, id := range ids {
		row := out.Data[t*dim : (t+1)*dim]
		kernels.Scale(row, w[id*dim:(id+1)*dim], wordScale(p, seed, id))
	}
	if g.recording(e.Weight) {
		*record(g, &g.recs.embedding, out) = embeddingRec{w: e.Weight, ids: ids, dim: dim, pad: e.PaddingIdx, p: p, seed: seed}
	}
	return out
}

// wordScale is the factor of vocabulary row id under word dropout.
func wordScale(p float32, seed uint64, id int) float32 {
	if p == 0 {
		return 1
	}
	if !kernels.DropoutKeep(seed, uint64(id), p) {
		return 0
	}
	return float32(1 / (1 - float64(p)))
}

// embeddingRec: row t of out is w[ids[t]]·wordScale(p, seed, ids[t]); the
// padding row gets no gradient.
type embeddingRec struct {
	w        *Tensor
	ids      []int
	dim, pad int
	p        float32
	seed     uint64
}

func (r *embeddingRec) backward(g *Graph, out *Tensor) {
	dim, pad, p, seed := r.dim, r.pad, r.p, r.seed
	dw := g.gradZeroed(r.w)
	dy := out.Grad
	for t, id := range r.ids {
		if id == pad {
			continue
		}
		kernels.Axpy(wordScale(p, seed, id), dy[t*dim:(t+1)*dim], dw[id*dim:(id+1)*dim])
	}
}

// renorm rescales each looked-up row whose NormType-norm exceeds MaxNorm
// by MaxNorm/(norm + 1e-7), in place, like torch.embedding_renorm_.
func (e *Embedding) renorm(ids []int) {
	dim := e.Weight.Shape[1]
	pn := float64(e.NormType)
	for _, id := range ids {
		row := e.Weight.Data[id*dim : (id+1)*dim]
		var norm float64
		switch pn {
		case 2:
			norm = math.Sqrt(float64(kernels.Dot(row, row)))
		case 1:
			for _, v := range row {
				norm += math.Abs(float64(v))
			}
		default:
			for _, v := range row {
				norm += math.Pow(math.Abs(float64(v)), pn)
			}
			norm = math.Pow(norm, 1/pn)
		}
		if norm > float64(e.MaxNorm) {
			kernels.Scale(row, row, float32(float64(e.MaxNorm)/(norm+1e-7)))
		}
	}
}

// Visit lists "weight".
func (e *Embedding) Visit(param func(string, *Tensor), child func(string, Module)) {
	param("weight", e.Weight)
}
