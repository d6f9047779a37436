package cases

import (
	"fmt"

	"github.com/simdformer/simdformer/bench/internal/schema"
	"github.com/simdformer/simdformer/nn"
	"github.com/simdformer/simdformer/nn/optim"
	"github.com/simdformer/simdformer/transformer"
)

// The tutorial's layers, in training mode with dropout 0.1 unless noted.
// Their Work is the FLOPs of the matrix products (see blockFLOPs), so the
// GFLOP/s column is a model-FLOPs utilisation and "% of peak" compares with
// the FMA peak.
func init() {
	register(
		blockCase("block-4x10x512", 4, 10, 512, 8, 2048, 1, 0.1, false, true),
		blockCase("block-4x10x512", 4, 10, 512, 8, 2048, 1, 0.1, true, true),
		blockCase("3blocks-2x8x256", 2, 8, 256, 4, 1024, 3, 0.1, false, false),
		blockCase("3blocks-2x8x256", 2, 8, 256, 4, 1024, 3, 0.1, true, false),
		classifierStep(),
		blockCase("block-32x128x512", 32, 128, 512, 8, 2048, 1, 0.1, false, false),
		blockCase("block-32x128x512-p0", 32, 128, 512, 8, 2048, 1, 0, false, false),
		blockCase("block-32x128x512", 32, 128, 512, 8, 2048, 1, 0.1, true, false),
	)
}

// blockFLOPs counts the matrix-product FLOPs of one post-norm block's
// forward pass over batch×seq tokens: Q, K, V and output projections
// (8·N·d²), scores and probabilities·values (4·B·T²·d) and the feed-forward
// layers (4·N·d·ff), with N = B·T. A backward pass costs twice that.
func blockFLOPs(batch, seq, dim, ff int) float64 {
	n := float64(batch * seq)
	d := float64(dim)
	return 8*n*d*d + 4*float64(batch)*float64(seq)*float64(seq)*d + 4*n*d*float64(ff)
}

func blockCase(shape string, batch, seq, dim, heads, ff, blocks int, p float32, backward, quick bool) Case {
	pass := "forward"
	work := float64(blocks) * blockFLOPs(batch, seq, dim, ff)
	if backward {
		pass = "forward-backward"
		work *= 3
	}
	name := fmt.Sprintf("transformer/%s/%s", shape, pass)
	return Case{
		Name:  name,
		Group: "transformer",
		Unit:  schema.GFLOPS,
		Work:  work,
		// Parameters plus the input, roughly: what one pass streams.
		WorkingSet: int64(blocks) * 4 * int64(4*dim*dim+2*dim*ff+batch*seq*dim),
		Quick:      quick,
		Setup: func(impl string) (func(), error) {
			if !IsBackend(impl) {
				return nil, errUnknownImpl(name, impl)
			}
			nn.ManualSeed(1)
			enc, err := transformer.NewEncoder(blocks, transformer.BlockConfig{EmbedDim: dim, NumHeads: heads, FFDim: ff,
				AttnDropout: p, FFNDropout: p, ResidDropout: p})
			if err != nil {
				return nil, err
			}
			nn.Train(enc)
			x := nn.NewTensor(fill(batch*seq*dim, 21, -1, 1), batch, seq, dim)
			target := nn.NewTensor(fill(batch*seq*dim, 22, -1, 1), batch, seq, dim)
			g := nn.NewGraph()
			if !backward {
				return func() {
					g.Reset()
					enc.Forward(g, x)
				}, nil
			}
			return func() {
				g.Reset()
				loss := g.MSE(enc.Forward(g, x), target, nn.ReduceMean)
				nn.ZeroGrad(enc)
				loss.Backward()
			}, nil
		},
	}
}

// classifierStep is the tutorial's training example: the classifier
// (vocabulary 1000, 128-d, 4 heads, ff 512, 2 blocks, 5 classes) on a batch of
// 8 sequences of 20 tokens, one Adam step (forward, cross-entropy,
// backward, update).
func classifierStep() Case {
	const vocab, dim, heads, ff, layers, classes, batch, seq = 1000, 128, 4, 512, 2, 5, 8, 20
	name := "transformer/classifier-8x20x128/adam-step"
	return Case{
		Name:       name,
		Group:      "transformer",
		Unit:       schema.GFLOPS,
		Work:       3 * (layers*blockFLOPs(batch, seq, dim, ff) + 2*batch*dim*classes),
		WorkingSet: 4 * int64(vocab*dim+layers*(4*dim*dim+2*dim*ff)) * 4, // params, grads, Adam moments
		Quick:      true,
		Setup: func(impl string) (func(), error) {
			if !IsBackend(impl) {
				return nil, errUnknownImpl(name, impl)
			}
			nn.ManualSeed(1)
			m, err := transformer.NewClassifier(transformer.Config{VocabSize: vocab, EmbedDim: dim, NumHeads: heads, FFDim: ff,
				NumLayers: layers, NumClasses: classes, AttnDropout: 0.1, FFNDropout: 0.1, ResidDropout: 0.1})
			if err != nil {
				return nil, err
			}
			nn.Train(m)
			opt, err := optim.NewAdam(nn.Parameters(m), 1e-3)
			if err != nil {
				return nil, err
			}
			ids := make([]int, batch*seq)
			for i := range ids {
				ids[i] = (i*7919 + 13) % vocab
			}
			labels := make([]int, batch)
			for i := range labels {
				labels[i] = i % classes
			}
			ce := nn.NewCrossEntropyLoss()
			g := nn.NewGraph()
			return func() {
				g.Reset()
				loss := ce.Forward(g, m.Forward(g, ids, batch, seq), labels)
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
			}, nil
		},
	}
}
