// Package nn is simdformer's layer library: float32 tensors, reverse-mode
// autograd, the layers of a transformer, the dropout family, losses and
// state-dict I/O, with PyTorch's semantics in Go idiom. Optimizers live in
// the subpackage nn/optim. Every heavy operation calls package kernels; nn
// never looks at CPU features, so results are the same bits on every backend.
//
// # Tensors and graphs
//
// A [Tensor] is a float32 array with a Shape and contiguous row-major Data.
// Parameters ([NewParam]) have RequiresGrad set and a Grad slice of the same
// length that Backward accumulates into (+=, like PyTorch) until ZeroGrad.
//
// Operations are methods on a [*Graph], the autograd tape:
//
//	g := nn.NewGraph()
//	h := g.ReLU(g.Linear(x, w, b))      // records what backward needs
//	loss := g.MSE(h, target, nn.ReduceMean)
//	loss.Backward()                      // fills w.Grad and b.Grad
//	g.Reset()                            // intermediate buffers go back to g's pool
//
// Every tensor an operation returns is owned by the graph and valid until
// g.Reset; after the first step a training step reuses the same buffers and
// allocates no tensor storage. The tape is recorded in execution order, so
// Backward walks it in reverse (a valid topological order). Setting
// g.NoGrad = true records nothing and saves nothing for backward
// (inference; results still live until Reset);
// a nil *Graph is also accepted by every operation and module: it records
// nothing and allocates results with make.
//
// A graph is not safe for concurrent use; use one graph per goroutine.
//
// Operations: Linear, MatMul (2-D and batched), Add (with suffix
// broadcasting), Sub, Mul, Scale, ReLU, GELU, GELUTanh, Softmax,
// SoftmaxWith (the fused scale/mask/causal/dropout kernel), LayerNorm,
// Attention (multi-head scaled dot-product attention), Dropout,
// BlockDropout, LockedDropout, AlphaDropout, Reshape, Sum, Mean, MeanAxis,
// Select and MSE. Gradients of intermediate results are computed in graph
// memory; elementwise backwards reuse the upstream buffer in place.
//
// # Modules
//
// Modules are structs with exported parameters named after PyTorch's
// state_dict keys (Linear.Weight is "weight", (out, in) like torch). They
// implement [Module] (a Visit method listing parameters and child modules),
// which gives [NamedParameters] (exactly PyTorch's state_dict names),
// [Parameters], [ZeroGrad], [Train] and [Eval] (recursive), [SaveFile] and
// [LoadFile] (safetensors with PyTorch key names). Layers with one input also
// implement [Layer] (Forward(g, x)), which [Sequential] chains.
//
//	lin := nn.Must(nn.NewLinear(784, 10, true))
//	y := lin.Forward(g, x)                      // x (..., 784) -> (..., 10)
//	mha := nn.Must(nn.NewMultiheadAttention(nn.MHAConfig{EmbedDim: 64, NumHeads: 4, Dropout: 0.1}))
//	out, _ := mha.Forward(g, x, x, x, nn.AttentionOptions{Causal: true})
//
// Layers: [Linear], [ReLU], [GELU] (exact and tanh), [LayerNorm],
// [Embedding] (padding index, max_norm, word dropout), [MultiheadAttention]
// (batch_first (N, L, E); self and cross attention; float/bool attn_mask,
// key_padding_mask, causal; weights averaged, per head or none), [Sequential].
// Losses: [CrossEntropyLoss] (class indices or probabilities, label
// smoothing, ignore index, mean/sum/none) and [Graph.MSE].
//
// # Errors
//
// One convention throughout: constructors (New…) validate their
// configuration and return an error (dropout probability outside [0, 1],
// embed_dim not divisible by num_heads, non-positive sizes, …); wrap them in
// [Must] when the configuration is a constant. Operations and Forward methods
// panic on shape misuse, with the shapes in the message, like a slice index
// out of range; a dropout probability set outside [0, 1] after construction
// also panics at the next Forward.
//
// # Randomness and dropout
//
// Everything random is reproducible from one seed. [ManualSeed] seeds the
// global generator that parameter initialisation draws from and that gives
// every dropout site (each module that drops) its own Seed at construction,
// so building the same model in the same order after the same ManualSeed
// reproduces weights and masks. [SeedDropout] re-seeds every site of a model
// from one seed and its state_dict path, independently of construction order.
//
// Each dropout site keeps a call counter that advances on every active
// Forward; the kernel seed of a call is CallSeed(Seed, counter) and the element
// index is the flat position in the tensor (offset 0). Masks are therefore
// fresh on every call and reproducible, and backward regenerates them from
// (seed, offset) through the counter-based kernel instead of storing them.
// The attention probabilities use the fused softmax+dropout kernel with
// element index (batch·heads + head)·L·S + row·S + col.
//
// Dropout is active in training mode, or in any mode when the site's
// AlwaysOn is set (Monte-Carlo dropout; [SetMCDropout] sets it for a whole
// model). p is the DROP probability (PyTorch's convention); p = 0 is the
// identity and p = 1 gives zeros. The dropout family: [Dropout],
// [Dropout1d], [Dropout2d], [AlphaDropout], [FeatureAlphaDropout],
// [DropPath] (stochastic depth), [LockedDropout] (one mask over the sequence)
// and Embedding.WordDropout (drops whole vocabulary rows).
package nn
