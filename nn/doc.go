// Package nn is simdformer's layer library: float32 tensors, reverse-mode
// autograd, the layers of a transformer, the dropout family, losses and
// state-dict I/O, with PyTorch's semantics in Go idiom. Optimizers live in
// the subpackage nn/optim, safetensors files in nn/safetensors.
//
// # Layering
//
// Three layers, each built only on the one below:
//
//  1. package kernels: float32 slices in, float32 slices out (Gemm, Softmax,
//     SoftmaxDropout, LayerNorm, Dropout, …), the same bits on every backend.
//     nn never looks at CPU features.
//  2. [Graph] operations (methods on *Graph): tensors in, a tensor out; each
//     calls kernels for its forward and records what its backward needs.
//  3. Modules ([Linear], [MultiheadAttention], [Dropout], …): structs holding
//     parameters under PyTorch's state_dict names and configuration, whose
//     Forward composes Graph operations. Package transformer builds blocks and
//     models from them.
//
// # Tensors
//
// A [Tensor] is a float32 array with a Shape and contiguous row-major Data
// ([NewTensor], [Zeros]; Numel, Dim, Item, Clone, String). Parameters
// ([NewParam]) have RequiresGrad set and a Grad slice of the same length that
// Backward accumulates into (+=, like PyTorch) until ZeroGrad.
//
// # Graphs and operations
//
// A [Graph] ([NewGraph]) is the autograd tape and the memory pool of one
// pass:
//
//	g := nn.NewGraph()
//	h := g.ReLU(g.Linear(x, w, b))          // records what backward needs
//	loss := g.MSE(h, target, nn.ReduceMean)
//	loss.Backward()                          // fills w.Grad and b.Grad
//	g.Reset()                                // buffers go back to g's pool
//
// Every tensor an operation returns is owned by the graph and valid until
// Reset; after the first step a training step reuses the same buffers and
// records and allocates nothing. The tape is in execution order, so
// Backward ([Graph.Backward], [Graph.BackwardWith], [Tensor.Backward])
// walks it in reverse. g.NoGrad = true records nothing (inference); a nil
// *Graph is accepted by every operation and module: it records nothing and
// allocates results with make. [Graph.Release] also drops the pool.
//
// Operations: [Graph.Tensor] and [Graph.Zeros] (graph-owned leaves),
// [Graph.Linear], [Graph.MatMul] (2-D and batched; which operand is
// transposed is a [Trans]: NoTrans, TransA, TransB, e.g. g.MatMul(q, k,
// nn.TransB)), [Graph.Add] (with suffix broadcasting), [Graph.Sub],
// [Graph.Mul], [Graph.Scale], [Graph.ReLU], [Graph.GELU], [Graph.GELUTanh],
// [Graph.Softmax], [Graph.SoftmaxWith] (the fused scale/mask/causal/dropout
// kernel), [Graph.LayerNorm], [Graph.Attention] (multi-head scaled
// dot-product attention), [Graph.Dropout], [Graph.DropoutInPlace],
// [Graph.BlockDropout], [Graph.LockedDropout], [Graph.AlphaDropout],
// [Graph.Reshape], [Graph.Sum], [Graph.Mean], [Graph.MeanAxis],
// [Graph.Select] and [Graph.MSE]; elementwise math [Graph.Tanh],
// [Graph.Sigmoid], [Graph.Exp], [Graph.Log] and [Graph.Div] (suffix
// broadcasting); shape ops [Graph.Transpose], [Graph.Permute],
// [Graph.Narrow], [Graph.Slice] and [Graph.Concat] (each returns a
// contiguous copy).
//
// # Backward records
//
// Each operation declares, beside its forward, the record type its backward
// reads (linearRec{x, w, b; rows, in, out}, attentionRec{q, k, v; head
// views; sizes; scale, p, seed; probs}, …) with a backward method; the
// forward fills the record by field name, so the writer and the reader are
// tied by the compiler. A node of the tape is just the output tensor and its
// record. Records come from per-type pools on the Graph, in chunks that never
// move (a record's address stays valid while the pool grows); Reset returns
// them, so a warm step records without allocating. Gradients of
// intermediate results live in graph memory; elementwise backwards reuse the
// upstream buffer in place.
//
// # Modules
//
// Modules implement [Module] (Visit lists parameters and child modules under
// PyTorch's names), which gives [NamedParameters] (exactly PyTorch's
// state_dict keys, [NamedTensor]), [Parameters] (tied tensors once),
// [StateDict], [ZeroGrad], [Walk], [Train] and [Eval] (recursive, through
// [Trainable]), and safetensors I/O with PyTorch key names ([Save],
// [SaveFile], [LoadStateDict], [LoadFile]; package transformer's
// documentation, "Saving and loading", tells the whole story). Layers with one input implement
// [Layer] (Forward(g, x)), which [Sequential] ([NewSequential]) chains.
// Modules may implement [Describer] to name themselves in a printed
// structure (transformer.Describe). [Must] unwraps a constructor's error.
//
//	lin := nn.Must(nn.NewLinear(784, 10, true))
//	y := lin.Forward(g, x)                      // x (..., 784) -> (..., 10)
//	mha := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 64, NumHeads: 4, Dropout: 0.1}))
//	out, _ := mha.Forward(g, x, x, x, nn.AttentionOptions{Causal: true, KeyPadding: padding})
//
// Layers: [Linear] ([NewLinear]), [ReLU], [GELU] (exact and tanh),
// [LayerNorm] ([NewLayerNorm], [LayerNormConfig]), [Embedding]
// ([NewEmbedding], [EmbeddingConfig]: padding index, max_norm, word
// dropout), [MultiheadAttention] ([NewMultiheadAttention], [MHAConfig]:
// batch_first (N, L, E); self and cross attention; kdim/vdim). Losses:
// [CrossEntropyLoss] ([NewCrossEntropyLoss]: class indices or
// probabilities, label smoothing, ignore index), [BCELoss] ([NewBCELoss])
// and [BCEWithLogitsLoss] ([NewBCEWithLogitsLoss]: weight, pos_weight, the
// stable logits form) and [Graph.MSE], reduced by a [Reduction]
// (ReduceMean, ReduceSum, ReduceNone).
//
// # Attention: the fused and the materialising path
//
// [Graph.Attention] and [MultiheadAttention.Forward] (so every block,
// encoder, decoder and model of package transformer) run the fused kernels
// kernels.Attention and kernels.AttentionBackward whenever
// AttentionOptions.NeedWeights is false, for every mask combination (Mask
// and BoolMask shared or per head, KeyPadding, KeyPaddingFloat, Causal with
// CausalOffset) and with or without dropout. Scores are computed 128×256 at
// a time with an online softmax, split over batch × heads × query tiles on
// the kernels' worker pool, and a recorded call keeps only its context and
// 2·N·H·L softmax statistics: attention memory is O(N·H·L) instead of
// O(N·H·L·S), and the dropout mask is regenerated in backward. With
// NeedWeights the probabilities are the result asked for, so that call
// materialises them: per (batch, head) Gemm(Q·Kᵀ), the fused scaled masked
// softmax with dropout, Gemm(P·V), keeping every head's probabilities for
// backward. Both paths drop the same elements (element index
// (n·H + h)·L·S + l·S + s) and agree to float32 rounding, not bit for bit;
// each is bit-identical across backends and worker counts.
//
// # Options types
//
// Arguments that could be swapped silently are named. [AttentionOptions] is
// the one attention options type, used by Graph.Attention,
// MultiheadAttention.Forward and every block, encoder, decoder and model of
// package transformer: Mask (additive float attn_mask), BoolMask (true masks
// out), KeyPadding and KeyPaddingFloat (key_padding_mask: the padding of
// variable-length input), Causal and CausalOffset, Scale, NeedWeights and
// PerHeadWeights. Every dropout operation of a Graph takes a [Drop] {P,
// Seed}; [BlockOptions] gives BlockDropout its block size and scaling;
// [Trans] names MatMul's transposes; configurations are structs
// ([MHAConfig], [LayerNormConfig], [EmbeddingConfig]).
//
// # Errors
//
// Constructors (New…) validate their configuration and return an error
// (dropout probability outside [0, 1], embed_dim not divisible by
// num_heads, non-positive sizes, …). Operations and Forward methods panic on
// shape misuse, naming the function and the shapes, like a slice index out
// of range; a dropout probability set outside [0, 1] after construction
// panics at the next Forward.
//
// # Randomness and dropout
//
// Everything random is reproducible from seeds. [ManualSeed] seeds the
// global generator that parameter initialisation draws from and that gives
// every dropout site (each module that drops) its own Seed at construction;
// [SeedDropout] re-seeds every site of a model from one seed and its
// state_dict path, independently of construction order.
//
// Dropout is active in training mode, or in any mode when the site's
// AlwaysOn is set (Monte-Carlo dropout; [SetMCDropout]; both through
// [Stochastic]). P is the DROP probability (PyTorch's convention); P = 0 is
// the identity and P = 1 gives zeros. The family: [Dropout] ([NewDropout]),
// [ChannelDropout] ([NewDropout1d], [NewDropout2d], [NewDropout3d]),
// [AlphaDropout] ([NewAlphaDropout], [NewFeatureAlphaDropout]), [DropPath]
// (stochastic depth), [LockedDropout] (one mask over the sequence) and
// Embedding's word dropout; each embeds a [DropoutSite].
//
// Masks are counter-based: element i of a mask is kept iff
// kernels.DropoutKeep(seed, i, p), so backward regenerates a mask from its
// seed instead of storing it. The seed of a call is
// [MaskSeed](site seed, graph seed, step, call): the site's Seed, the
// graph's dropout seed ([Graph.SetSeed], [Graph.Seed]; 0 by default), the
// graph's step ([Graph.Step], [Graph.SetStep]; Reset advances it after a
// pass that drew a mask) and the number of earlier calls of that site in
// the pass. A site holds no counter: the whole dropout state of a run is
// (site seeds, graph seed, step), and saving Step resumes it exactly. The
// attention probabilities use the fused softmax+dropout kernel with element
// index (batch·heads + head)·L·S + row·S + col.
//
// # Concurrency
//
// A Graph is used by one goroutine at a time. Modules are only read by
// Forward (not written), so one model can serve several goroutines at once
// as long as nothing changes it meanwhile (no optimizer step, no Train/Eval,
// no P or seed change, no Embedding MaxNorm, which renormalises the table):
//
//   - Inference, training-mode forward and Monte-Carlo dropout: one graph per
//     goroutine. Masks depend only on (site, graph seed, step, call), so
//     give each graph its own seed (g.SetSeed(worker)) and its masks are
//     reproducible whatever the scheduling; graphs with equal seeds draw
//     equal masks. Calls through a nil graph each take the next step of one
//     atomic process-wide counter (restarted by ManualSeed): race-free, but
//     their masks depend on the scheduling.
//   - Backward: parameter gradients are shared, so concurrent Backward
//     needs graphs with LocalGrads set: each graph accumulates leaf
//     gradients into its own buffers ([Graph.Grad]), and
//     [Graph.AccumulateGrads] adds them into the parameters' Grad, from one
//     goroutine at a time (under a mutex, or after the workers finish — in a
//     fixed order of graphs for reproducible sums). Then the optimizer
//     steps, with no forward running.
package nn
