package nn

import (
	"fmt"
	"math"

	"github.com/simdformer/simdformer/kernels"
)

// DropoutSite is the configuration of one place that drops: the drop
// probability, the mode and the site's seed. Every dropping module embeds it
// (and so implements Trainable and Stochastic); other packages may embed it
// too.
//
// A site holds no per-call state: the counter that makes masks fresh lives
// in the Graph (see Graph.SetSeed). The c-th active call of the site during
// a graph's pass uses kernel seed MaskSeed(Seed, g.Seed(), g.Step(), c) with
// element offset 0. Forward only reads the site, so one model can run in
// several goroutines at once, each with its own graph (training mode and
// Monte-Carlo dropout included); changing P, the mode or Seed while another
// goroutine runs Forward is a data race.
type DropoutSite struct {
	// P is the drop probability in [0, 1]; it may be changed between steps
	// (dropout schedules). A value outside [0, 1] panics at Forward.
	P float32
	// AlwaysOn keeps the site active in Eval mode (Monte-Carlo dropout).
	AlwaysOn bool
	// Seed identifies the site's stream.
	Seed uint64

	eval bool // the zero value is training mode, like a new torch module
}

func newSite(op string, p float32) (DropoutSite, error) {
	if err := checkP(op, p); err != nil {
		return DropoutSite{}, err
	}
	return DropoutSite{P: p, Seed: nextSeed()}, nil
}

func checkP(op string, p float32) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("nn: %s: dropout probability has to be between 0 and 1, but got %v", op, p)
	}
	return nil
}

// SetTraining sets the mode (Train/Eval call it).
func (s *DropoutSite) SetTraining(on bool) { s.eval = !on }

// Training reports whether the site is in training mode.
func (s *DropoutSite) Training() bool { return !s.eval }

// SetAlwaysOn sets AlwaysOn (Monte-Carlo dropout).
func (s *DropoutSite) SetAlwaysOn(on bool) { s.AlwaysOn = on }

// Reseed sets the site's seed.
func (s *DropoutSite) Reseed(seed uint64) { s.Seed = seed }

// Active reports whether a Forward now drops: in training mode or AlwaysOn,
// and P > 0.
func (s *DropoutSite) Active() bool { return (!s.eval || s.AlwaysOn) && s.P != 0 }

// Next validates P and returns the kernel seed of this call of the site on
// g: MaskSeed(s.Seed, g.Seed(), g.Step(), c) where c counts the site's
// earlier active calls in g's current pass (see Graph.SetSeed). Call it once
// per active Forward; op names the caller in the panic for a bad P.
//
// A nil g has no pass to count in: each call is a pass of its own, at the
// next step of one process-wide counter (atomic, so race-free; ManualSeed
// restarts it at 0). Masks drawn through nil graphs are fresh on every call
// and reproducible in a single goroutine, but depend on the scheduling when
// several goroutines draw at once: give each goroutine a graph for that.
func (s *DropoutSite) Next(g *Graph, op string) uint64 {
	if err := checkP(op, s.P); err != nil {
		panic(err.Error())
	}
	if g == nil {
		return MaskSeed(s.Seed, 0, nilStep.Add(1)-1, 0)
	}
	return MaskSeed(s.Seed, g.seed, g.step, g.siteCall(s))
}

// siteCall returns how many times site drew a mask on g since Reset and
// counts this call. A pass has few sites, so a linear scan is cheap and
// allocates nothing once warm.
func (g *Graph) siteCall(site *DropoutSite) uint32 {
	g.drew = true
	for i := range g.calls {
		if g.calls[i].site == site {
			c := g.calls[i].n
			g.calls[i].n++
			return c
		}
	}
	g.calls = append(g.calls, siteCount{site, 1})
	return 0
}

// siteCount is a dropout site's number of calls in the current pass.
type siteCount struct {
	site *DropoutSite
	n    uint32
}

// SetSeed sets g's dropout seed and restarts its step at 0. Masks depend
// only on (site seed, graph seed, step, call index within the pass), never
// on other graphs or goroutines: give each goroutine that shares a model
// in training mode (or for Monte-Carlo dropout) its own graph and seed, and
// its masks are reproducible whatever the scheduling. The default seed 0
// keeps the site streams as they are.
func (g *Graph) SetSeed(seed uint64) {
	g.seed, g.step, g.drew = seed, 0, false
	clear(g.calls)
	g.calls = g.calls[:0]
}

// Seed returns g's dropout seed (see SetSeed).
func (g *Graph) Seed() uint64 {
	if g == nil {
		return 0
	}
	return g.seed
}

// Step returns the dropout step of g's current pass. It starts at 0 and
// Reset advances it when the pass drew at least one dropout mask, so each
// training step (or Monte-Carlo sample) draws fresh masks. Together with
// Seed it is the whole dropout state of a run: save it to resume exactly.
func (g *Graph) Step() uint64 {
	if g == nil {
		return 0
	}
	return g.step
}

// SetStep sets the dropout step of the current pass (and of the passes that
// follow it, which count on from it), e.g. to resume a run or to draw the
// masks of a chosen step again.
func (g *Graph) SetStep(step uint64) {
	g.step, g.drew = step, false
	clear(g.calls)
	g.calls = g.calls[:0]
}

// Drop is one dropout draw, the argument of every dropout operation of a
// Graph: the drop probability P in [0, 1] and the kernel seed of the mask
// (a module gets it from DropoutSite.Next). The zero value drops nothing.
type Drop struct {
	P    float32
	Seed uint64
}

// Dropout returns x with each element zeroed with probability d.P and the
// kept ones scaled by 1/(1-d.P), the mask given by the counter-based kernel
// under d.Seed (element index = flat position). P = 0 copies, P = 1 gives
// zeros. It panics if P is outside [0, 1].
func (g *Graph) Dropout(x *Tensor, d Drop) *Tensor {
	return g.dropout(x, d, g.newTensor(x.Shape...))
}

// DropoutInPlace is Dropout writing its result into x.Data (shared with the
// result), which is safe when x's producer does not need its own output for
// backward (Linear, LayerNorm, Add, ReLU and GELU need only their inputs;
// Softmax needs its output) and nothing else reads x afterwards.
func (g *Graph) DropoutInPlace(x *Tensor, d Drop) *Tensor {
	return g.dropout(x, d, g.tensor(x.Data, x.Shape...))
}

func (g *Graph) dropout(x *Tensor, d Drop, out *Tensor) *Tensor {
	p, seed := d.P, d.Seed
	kernels.Dropout(out.Data, x.Data, p, seed, 0)
	if g.recording(x) {
		*record(g, &g.recs.dropout, out) = dropoutRec{x, p, seed}
	}
	return out
}

// dropoutRec: the mask is regenerated from (seed, flat index), never stored.
type dropoutRec struct {
	x    *Tensor
	p    float32
	seed uint64
}

func (r *dropoutRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	kernels.Dropout(dst, out.Grad, r.p, r.seed, 0) // y = x·m/(1-p) is linear: dx = dy·m/(1-p)
	done(g, r.x, dst)
}

// BlockOptions shape a BlockDropout: blocks of Size contiguous elements,
// kept ones scaled by 1/(1-P) unless NoScale.
type BlockOptions struct {
	Size    int
	NoScale bool
}

// BlockDropout drops whole contiguous blocks of opt.Size elements
// (channels, samples): block u is kept iff kernels.DropoutKeep(d.Seed, u,
// d.P), and kept blocks are scaled by 1/(1-P) (by 1 with opt.NoScale). It is
// the core of Dropout1d/2d (block = one channel's spatial extent) and
// DropPath (block = one sample).
func (g *Graph) BlockDropout(x *Tensor, d Drop, opt BlockOptions) *Tensor {
	p, seed, inner, scale := d.P, d.Seed, opt.Size, !opt.NoScale
	if err := checkP("BlockDropout", p); err != nil {
		panic(err.Error())
	}
	if inner <= 0 || len(x.Data)%inner != 0 {
		panic(fmt.Sprintf("nn: BlockDropout: block of %d elements does not divide a tensor of shape %v", inner, x.Shape))
	}
	out := g.newTensor(x.Shape...)
	blockScale(out.Data, x.Data, p, seed, inner, scale)
	if g.recording(x) {
		*record(g, &g.recs.block, out) = blockDropoutRec{x: x, p: p, seed: seed, inner: inner, scale: scale}
	}
	return out
}

func blockScale(dst, src []float32, p float32, seed uint64, inner int, scale bool) {
	keepScale := float32(1)
	if scale && p < 1 {
		keepScale = float32(1 / (1 - float64(p)))
	}
	for u := 0; u*inner < len(src); u++ {
		f := float32(0)
		if kernels.DropoutKeep(seed, uint64(u), p) {
			f = keepScale
		}
		kernels.Scale(dst[u*inner:(u+1)*inner], src[u*inner:(u+1)*inner], f)
	}
}

// blockDropoutRec: block u of inner elements is kept iff DropoutKeep(seed, u, p).
type blockDropoutRec struct {
	x     *Tensor
	p     float32
	seed  uint64
	inner int
	scale bool
}

func (r *blockDropoutRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	blockScale(dst, out.Grad, r.p, r.seed, r.inner, r.scale)
	done(g, r.x, dst)
}

// LockedDropout is variational dropout for x of shape (N, L, D): one mask
// of shape (N, 1, D) shared by all L positions (element (n, l, d) uses mask
// index n·D + d under d.Seed), scaled by 1/(1-d.P).
func (g *Graph) LockedDropout(x *Tensor, d Drop) *Tensor {
	p, seed := d.P, d.Seed
	if len(x.Shape) != 3 {
		panic(shapeErr("LockedDropout", "x", x.Shape, "(N, L, D)"))
	}
	out := g.newTensor(x.Shape...)
	lockedApply(g, out.Data, x.Data, x.Shape, p, seed)
	if g.recording(x) {
		*record(g, &g.recs.locked, out) = lockedDropoutRec{x, p, seed}
	}
	return out
}

// lockedApply applies the (N, 1, D) mask to every position: the scaled mask
// row of each sample is built once (Dropout of ones gives exactly scale or
// 0) and multiplied into its L positions, the same bits as a Dropout call
// per position without rehashing the mask L times.
func lockedApply(g *Graph, dst, src []float32, shape []int, p float32, seed uint64) {
	N, L, D := shape[0], shape[1], shape[2]
	row := g.alloc(D)
	for b := 0; b < N; b++ {
		for i := range row {
			row[i] = 1
		}
		kernels.Dropout(row, row, p, seed, uint64(b*D))
		for l := 0; l < L; l++ {
			s := (b*L + l) * D
			kernels.Mul(dst[s:s+D], src[s:s+D], row)
		}
	}
}

// lockedDropoutRec: the (N, 1, D) mask is regenerated from seed.
type lockedDropoutRec struct {
	x    *Tensor
	p    float32
	seed uint64
}

func (r *lockedDropoutRec) backward(g *Graph, out *Tensor) {
	dst, done := g.gradInPlace(r.x, out)
	lockedApply(g, dst, out.Grad, r.x.Shape, r.p, r.seed)
	done(g, r.x, dst)
}

// selu's negative saturation value α (AlphaDropout drops to -α·a·(1-p)).
const seluAlpha = 1.7580993408473766

// AlphaDropout is PyTorch's alpha dropout for SELU networks, on blocks of
// block elements (1: per element, AlphaDropout; the spatial size:
// FeatureAlphaDropout), unit u kept per bit u of the mask under d.Seed.
// With p = d.P and a = 1/√((α²p+1)(1-p)), kept values become a·x + α·a·p
// and dropped ones -α·a·(1-p), keeping zero mean and unit variance; p = 1
// gives zeros.
func (g *Graph) AlphaDropout(x *Tensor, d Drop, block int) *Tensor {
	p, seed, inner := d.P, d.Seed, block
	if err := checkP("AlphaDropout", p); err != nil {
		panic(err.Error())
	}
	if inner <= 0 || len(x.Data)%inner != 0 {
		panic(fmt.Sprintf("nn: AlphaDropout: block of %d elements does not divide a tensor of shape %v", inner, x.Shape))
	}
	out := g.newTensor(x.Shape...)
	if p == 1 {
		clear(out.Data)
	} else {
		a, keepShift, dropVal := alphaParams(p)
		mask := g.alphaMask(len(x.Data)/inner, p, seed)
		for u := 0; u*inner < len(x.Data); u++ {
			d, s := out.Data[u*inner:(u+1)*inner], x.Data[u*inner:(u+1)*inner]
			if mask[u/64]>>(u%64)&1 != 0 {
				for i, v := range s {
					d[i] = float32(a*v) + keepShift
				}
			} else {
				for i := range d {
					d[i] = dropVal
				}
			}
		}
	}
	if g.recording(x) {
		*record(g, &g.recs.alpha, out) = alphaDropoutRec{x: x, p: p, seed: seed, inner: inner}
	}
	return out
}

func alphaParams(p float32) (a, keepShift, dropVal float32) {
	pp := float64(p)
	af := 1 / math.Sqrt((float64(seluAlpha*seluAlpha*pp)+1)*(1-pp))
	return float32(af), float32(seluAlpha * af * pp), float32(-seluAlpha * af * (1 - pp))
}

func (g *Graph) alphaMask(units int, p float32, seed uint64) []uint64 {
	mask := g.wordScratch((units + 63) / 64)
	kernels.DropoutMask(mask, units, p, seed, 0)
	return mask
}

// alphaDropoutRec: unit u of inner elements is kept per the seed's bit mask.
type alphaDropoutRec struct {
	x     *Tensor
	p     float32
	seed  uint64
	inner int
}

func (r *alphaDropoutRec) backward(g *Graph, out *Tensor) {
	x, p, inner := r.x, r.p, r.inner
	dst, done := g.gradInPlace(x, out)
	dy := out.Grad
	if p == 1 {
		clear(dst)
	} else {
		a, _, _ := alphaParams(p)
		mask := g.alphaMask(len(dy)/inner, p, r.seed)
		for u := 0; u*inner < len(dy); u++ {
			f := float32(0)
			if mask[u/64]>>(u%64)&1 != 0 {
				f = a
			}
			kernels.Scale(dst[u*inner:(u+1)*inner], dy[u*inner:(u+1)*inner], f)
		}
	}
	done(g, x, dst)
}

// Dropout is nn.Dropout: in training mode (or AlwaysOn) each element is
// zeroed with probability P and kept ones are scaled by 1/(1-P); otherwise
// it is the identity (Forward returns x itself). Inplace writes into x (see
// Graph.DropoutInPlace for when that is safe).
type Dropout struct {
	DropoutSite
	Inplace bool
}

// NewDropout returns a Dropout with drop probability p; it returns an error
// if p is outside [0, 1].
func NewDropout(p float32) (*Dropout, error) {
	s, err := newSite("NewDropout", p)
	return &Dropout{DropoutSite: s}, err
}

// Forward applies dropout when active.
func (d *Dropout) Forward(g *Graph, x *Tensor) *Tensor {
	if !d.Active() {
		return x
	}
	drop := Drop{P: d.P, Seed: d.Next(g, "Dropout")}
	if d.Inplace {
		return g.DropoutInPlace(x, drop)
	}
	return g.Dropout(x, drop)
}

// Visit lists nothing (dropout has no parameters).
func (d *Dropout) Visit(func(string, *Tensor), func(string, Module)) {}

// ChannelDropout is nn.Dropout1d / nn.Dropout2d / nn.Dropout3d: whole
// channels are zeroed with probability P (one draw per (sample, channel),
// broadcast over the trailing Spatial dimensions) and kept channels scaled
// by 1/(1-P). Spatial is 1 for Dropout1d ((N, C, L) or (C, L)), 2 for
// Dropout2d ((N, C, H, W) or (C, H, W)) and 3 for Dropout3d.
type ChannelDropout struct {
	DropoutSite
	Spatial int
}

// NewDropout1d returns channel dropout over (N, C, L) or (C, L) inputs.
func NewDropout1d(p float32) (*ChannelDropout, error) { return newChannel("NewDropout1d", p, 1) }

// NewDropout2d returns channel dropout over (N, C, H, W) or (C, H, W)
// inputs. A 3-D input is read as (C, H, W), the meaning PyTorch's warning
// announces (PyTorch 1.13 still treats it as (N, C, L)).
func NewDropout2d(p float32) (*ChannelDropout, error) { return newChannel("NewDropout2d", p, 2) }

// NewDropout3d returns channel dropout over (N, C, D, H, W) or (C, D, H, W).
func NewDropout3d(p float32) (*ChannelDropout, error) { return newChannel("NewDropout3d", p, 3) }

func newChannel(op string, p float32, spatial int) (*ChannelDropout, error) {
	s, err := newSite(op, p)
	return &ChannelDropout{DropoutSite: s, Spatial: spatial}, err
}

// Forward drops whole channels when active.
func (d *ChannelDropout) Forward(g *Graph, x *Tensor) *Tensor {
	r := len(x.Shape)
	if r != d.Spatial+1 && r != d.Spatial+2 {
		panic(shapeErr(fmt.Sprintf("Dropout%dd", d.Spatial), "x", x.Shape, fmt.Sprintf("rank %d or %d", d.Spatial+1, d.Spatial+2)))
	}
	if !d.Active() {
		return x
	}
	return g.BlockDropout(x, Drop{P: d.P, Seed: d.Next(g, "ChannelDropout")}, BlockOptions{Size: numel(x.Shape[r-d.Spatial:])})
}

// Visit lists nothing.
func (d *ChannelDropout) Visit(func(string, *Tensor), func(string, Module)) {}

// AlphaDropout is nn.AlphaDropout (per element) or, with Feature set,
// nn.FeatureAlphaDropout (one draw per (sample, channel) of an (N, C, …)
// input). See Graph.AlphaDropout.
type AlphaDropout struct {
	DropoutSite
	Feature bool
}

// NewAlphaDropout returns an nn.AlphaDropout.
func NewAlphaDropout(p float32) (*AlphaDropout, error) {
	s, err := newSite("NewAlphaDropout", p)
	return &AlphaDropout{DropoutSite: s}, err
}

// NewFeatureAlphaDropout returns an nn.FeatureAlphaDropout.
func NewFeatureAlphaDropout(p float32) (*AlphaDropout, error) {
	s, err := newSite("NewFeatureAlphaDropout", p)
	return &AlphaDropout{DropoutSite: s, Feature: true}, err
}

// Forward applies alpha dropout when active.
func (d *AlphaDropout) Forward(g *Graph, x *Tensor) *Tensor {
	if !d.Active() {
		return x
	}
	inner := 1
	if d.Feature {
		if len(x.Shape) < 2 {
			panic(shapeErr("FeatureAlphaDropout", "x", x.Shape, "(N, C, …)"))
		}
		inner = numel(x.Shape[2:])
	}
	return g.AlphaDropout(x, Drop{P: d.P, Seed: d.Next(g, "AlphaDropout")}, inner)
}

// Visit lists nothing.
func (d *AlphaDropout) Visit(func(string, *Tensor), func(string, Module)) {}

// DropPath is stochastic depth (timm's DropPath): for a residual branch x of
// shape (N, …) each sample's branch is dropped with probability P, and kept
// ones are scaled by 1/(1-P) when ScaleByKeep is set (timm's default).
type DropPath struct {
	DropoutSite
	ScaleByKeep bool
}

// NewDropPath returns a DropPath with ScaleByKeep set.
func NewDropPath(p float32) (*DropPath, error) {
	s, err := newSite("NewDropPath", p)
	return &DropPath{DropoutSite: s, ScaleByKeep: true}, err
}

// Forward drops whole samples when active.
func (d *DropPath) Forward(g *Graph, x *Tensor) *Tensor {
	if len(x.Shape) == 0 {
		panic(shapeErr("DropPath", "x", x.Shape, "(N, …)"))
	}
	if !d.Active() || len(x.Data) == 0 {
		return x
	}
	return g.BlockDropout(x, Drop{P: d.P, Seed: d.Next(g, "DropPath")}, BlockOptions{Size: len(x.Data) / x.Shape[0], NoScale: !d.ScaleByKeep})
}

// Visit lists nothing.
func (d *DropPath) Visit(func(string, *Tensor), func(string, Module)) {}

// LockedDropout is variational (locked) dropout for (N, L, D) sequences:
// one mask per (sample, feature), the same at every position (AWD-LSTM).
type LockedDropout struct {
	DropoutSite
}

// NewLockedDropout returns a LockedDropout.
func NewLockedDropout(p float32) (*LockedDropout, error) {
	s, err := newSite("NewLockedDropout", p)
	return &LockedDropout{DropoutSite: s}, err
}

// Forward applies the locked mask when active.
func (d *LockedDropout) Forward(g *Graph, x *Tensor) *Tensor {
	if len(x.Shape) != 3 {
		panic(shapeErr("LockedDropout", "x", x.Shape, "(N, L, D)"))
	}
	if !d.Active() {
		return x
	}
	return g.LockedDropout(x, Drop{P: d.P, Seed: d.Next(g, "LockedDropout")})
}

// Visit lists nothing.
func (d *LockedDropout) Visit(func(string, *Tensor), func(string, Module)) {}
