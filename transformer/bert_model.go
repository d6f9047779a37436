package transformer

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/simdformer/simdformer/nn"
)

// BERT is Hugging Face's BertModel: word, position and token-type
// embeddings summed, normalised and dropped out; post-norm encoder layers
// with separate query, key and value projections; a pooler (tanh of a
// dense layer on the first token's hidden state).
//
// Its state_dict keys are Hugging Face's (nn.NamedParameters lists them):
// embeddings.{word,position,token_type}_embeddings.weight,
// embeddings.LayerNorm.{weight,bias},
// encoder.layer.{i}.attention.self.{query,key,value}.{weight,bias},
// encoder.layer.{i}.attention.output.{dense,LayerNorm}.*,
// encoder.layer.{i}.intermediate.dense.*,
// encoder.layer.{i}.output.{dense,LayerNorm}.*, pooler.dense.*.
//
// [LoadBERT] reads a Hugging Face directory and [BERT.SaveBERT] writes one.
// Like every model it is an nn.Module: nn.Train / nn.Eval switch dropout,
// and several goroutines may run Forward at once, each with its own graph.
type BERT struct {
	Embeddings *BERTEmbeddings // "embeddings"
	Layers     []*BERTLayer    // "encoder.layer.{i}"
	Pooler     *nn.Linear      // "pooler.dense" (hidden, hidden), followed by tanh

	// Config is the Hugging Face configuration the model was built or
	// loaded with; SaveBERT writes its other fields back (the sizes, rates
	// and activation come from the model itself, see BERTConfigOf).
	Config BERTConfig
}

// BERTEmbeddings is BertEmbeddings: LayerNorm(word[ids] + token_type[types]
// + position[0..seq)) followed by dropout (hidden_dropout_prob).
type BERTEmbeddings struct {
	Word      *nn.Embedding // "word_embeddings" (vocab, hidden), padding_idx = pad_token_id
	Position  *nn.Embedding // "position_embeddings" (max_positions, hidden)
	TokenType *nn.Embedding // "token_type_embeddings" (type_vocab, hidden)
	LayerNorm *nn.LayerNorm // "LayerNorm"
	Dropout   *nn.Dropout   // "dropout"
}

// BERTLayer is one BertLayer (post-norm):
//
//	a = AttnNorm(x + AttnOutDropout(AttnOut(Attention(Query(x), Key(x), Value(x)))))
//	y = OutNorm(a + OutDropout(Output(Act(Intermediate(a)))))
//
// with AttnDropout dropping the attention probabilities.
type BERTLayer struct {
	Query, Key, Value *nn.Linear    // "attention.self.{query,key,value}"
	AttnDropout       *nn.Dropout   // "attention.self.dropout": attention_probs_dropout_prob
	AttnOut           *nn.Linear    // "attention.output.dense"
	AttnNorm          *nn.LayerNorm // "attention.output.LayerNorm"
	AttnOutDropout    *nn.Dropout   // "attention.output.dropout"
	Intermediate      *nn.Linear    // "intermediate.dense" (intermediate, hidden)
	Act               nn.Layer      // "intermediate.intermediate_act_fn"
	Output            *nn.Linear    // "output.dense" (hidden, intermediate)
	OutNorm           *nn.LayerNorm // "output.LayerNorm"
	OutDropout        *nn.Dropout   // "output.dropout"
	Heads             int           // num_attention_heads
}

// BERTClassifier is Hugging Face's BertForSequenceClassification: a BERT
// ("bert.") whose pooled output goes through dropout (classifier_dropout,
// or hidden_dropout_prob when null) and a linear classifier.
type BERTClassifier struct {
	BERT       *BERT       // "bert"
	Dropout    *nn.Dropout // "dropout"
	Classifier *nn.Linear  // "classifier" (num_labels, hidden)
}

// bertActivation returns the module of a hidden_act.
func bertActivation(name string) (nn.Layer, error) {
	switch name {
	case "gelu":
		return hfAct{nn.GELU{}, "GELUActivation()"}, nil
	case "gelu_new":
		return hfAct{nn.GELU{Tanh: true}, "NewGELUActivation()"}, nil
	case "gelu_pytorch_tanh":
		return hfAct{nn.GELU{Tanh: true}, "PytorchGELUTanh()"}, nil
	case "relu":
		return hfAct{nn.ReLU{}, "ReLU()"}, nil
	}
	return nil, fmt.Errorf("transformer: BERT config: hidden_act %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)", truncate(name))
}

// hfAct is an activation printed under Hugging Face's class name.
type hfAct struct {
	nn.Layer
	name string
}

func (a hfAct) Describe() string { return a.name }

// NewBERT builds a BERT of config c with Hugging Face's initialisation
// (weights N(0, 0.02²), the padding row and biases zero, LayerNorm 1 and
// 0), drawn from nn's global generator (see nn.ManualSeed). The model is in
// training mode, like a new module.
func NewBERT(c BERTConfig) (*BERT, error) {
	m, err := newBERT(c)
	if err != nil {
		return nil, err
	}
	for _, np := range nn.NamedParameters(m) {
		initBERTParam(np)
	}
	if w := m.Embeddings.Word; w.PaddingIdx >= 0 {
		H := w.Weight.Shape[1]
		clear(w.Weight.Data[w.PaddingIdx*H : (w.PaddingIdx+1)*H])
	}
	return m, nil
}

// NewBERTClassifier builds a BERTClassifier of config c (c.NumLabels
// outputs) with Hugging Face's initialisation; see NewBERT.
func NewBERTClassifier(c BERTConfig) (*BERTClassifier, error) {
	b, err := NewBERT(c)
	if err != nil {
		return nil, err
	}
	return NewBERTClassifierFrom(b)
}

// NewBERTClassifierFrom puts a new classifier head (b.Config.NumLabels
// outputs, Hugging Face's initialisation) on b, which the classifier then
// owns: fine-tuning a pretrained BERT.
func NewBERTClassifierFrom(b *BERT) (*BERTClassifier, error) {
	c := b.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := newBERTHead(b, c)
	if err != nil {
		return nil, err
	}
	initBERTParam(nn.NamedTensor{Name: "classifier.weight", Tensor: m.Classifier.Weight})
	return m, nil
}

func newBERTHead(b *BERT, c BERTConfig) (*BERTClassifier, error) {
	d, err := nn.NewDropout(float32(c.classifierDropout()))
	if err != nil {
		return nil, err
	}
	return &BERTClassifier{BERT: b, Dropout: d, Classifier: bertLinear(c.HiddenSize, c.NumLabels)}, nil
}

// initBERTParam is BertPreTrainedModel._init_weights for one parameter.
func initBERTParam(np nn.NamedTensor) {
	t := np.Tensor
	switch {
	case len(t.Shape) == 1 && strings.HasSuffix(np.Name, "LayerNorm.weight"):
		for i := range t.Data {
			t.Data[i] = 1
		}
	case len(t.Shape) == 1:
		clear(t.Data)
	default:
		// nn.Embedding draws N(0, 1) from the global generator.
		e := nn.Must(nn.NewEmbedding(1, len(t.Data), nn.EmbeddingConfig{}))
		for i, v := range e.Weight.Data {
			t.Data[i] = 0.02 * v
		}
	}
}

// newBERT builds the modules of c with zero parameters (the padding row
// included): the loader fills them.
func newBERT(c BERTConfig) (*BERT, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	H := c.HiddenSize
	eps := float32(c.LayerNormEps)
	pHidden, pAttn := float32(c.HiddenDropoutProb), float32(c.AttentionProbsDropoutProb)
	m := &BERT{Config: c}
	var err error
	e := &BERTEmbeddings{
		Word:      bertEmbedding(c.VocabSize, H, c.PadTokenID),
		Position:  bertEmbedding(c.MaxPositionEmbeddings, H, -1),
		TokenType: bertEmbedding(c.TypeVocabSize, H, -1),
		LayerNorm: bertLayerNorm(H, eps),
	}
	if e.Dropout, err = newDropout(pHidden); err != nil {
		return nil, err
	}
	m.Embeddings = e
	for i := 0; i < c.NumHiddenLayers; i++ {
		l := &BERTLayer{Query: bertLinear(H, H), Key: bertLinear(H, H), Value: bertLinear(H, H),
			AttnOut: bertLinear(H, H), AttnNorm: bertLayerNorm(H, eps),
			Intermediate: bertLinear(H, c.IntermediateSize), Output: bertLinear(c.IntermediateSize, H),
			OutNorm: bertLayerNorm(H, eps), Heads: c.NumAttentionHeads}
		if l.AttnDropout, err = nn.NewDropout(pAttn); err != nil {
			return nil, err
		}
		if l.AttnOutDropout, err = newDropout(pHidden); err != nil {
			return nil, err
		}
		if l.OutDropout, err = newDropout(pHidden); err != nil {
			return nil, err
		}
		if l.Act, err = bertActivation(c.HiddenAct); err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, l)
	}
	m.Pooler = bertLinear(H, H)
	return m, nil
}

func bertLinear(in, out int) *nn.Linear {
	return &nn.Linear{Weight: nn.NewParam(out, in), Bias: nn.NewParam(out)}
}

func bertLayerNorm(dim int, eps float32) *nn.LayerNorm {
	return &nn.LayerNorm{Weight: nn.NewParam(dim), Bias: nn.NewParam(dim), Eps: eps}
}

func bertEmbedding(num, dim, pad int) *nn.Embedding {
	return &nn.Embedding{Weight: nn.NewParam(num, dim), PaddingIdx: pad, NormType: 2}
}

// Forward runs m on batch sequences of seq tokens: ids (batch·seq, each in
// [0, vocab_size)), tokenTypes (segment ids in [0, type_vocab_size); nil =
// all 0) and attentionMask (Hugging Face's convention: true = a real token,
// false = padding, ignored as an attention key; nil = all real). It returns
// the last hidden state (batch, seq, hidden) and the pooler output (batch,
// hidden) = tanh(dense(hidden[:, 0])). Positions are 0..seq-1, so pad on
// the right. Hidden states at padded positions are computed (they attend to
// the real tokens) but influence no real position: a sentence gives the
// same bits alone and padded in a batch. A sequence with no real token at
// all gets a zero attention context (Hugging Face's finfo.min mask
// averages over its padding instead). The slices must not change until
// Backward. It panics on inconsistent sizes or ids out of range.
func (m *BERT) Forward(g *nn.Graph, ids, tokenTypes []int, attentionMask []bool, batch, seq int) (hidden, pooled *nn.Tensor) {
	hidden = m.forwardHidden(g, "BERT.Forward", ids, tokenTypes, attentionMask, batch, seq)
	return hidden, m.pool(g, hidden)
}

// pool is the pooler: tanh(dense(hidden[:, 0])).
func (m *BERT) pool(g *nn.Graph, hidden *nn.Tensor) *nn.Tensor {
	return g.Tanh(m.Pooler.Forward(g, g.Select(hidden, 1, 0)))
}

func (m *BERT) forwardHidden(g *nn.Graph, op string, ids, tokenTypes []int, attentionMask []bool, batch, seq int) *nn.Tensor {
	if batch <= 0 || seq <= 0 || len(ids)%batch != 0 || len(ids)/batch != seq {
		panic(fmt.Sprintf("transformer: %s: %d token ids for batch %d × seq %d", op, len(ids), batch, seq))
	}
	if tokenTypes != nil && len(tokenTypes) != len(ids) {
		panic(fmt.Sprintf("transformer: %s: %d token types for batch %d × seq %d", op, len(tokenTypes), batch, seq))
	}
	if attentionMask != nil && len(attentionMask) != len(ids) {
		panic(fmt.Sprintf("transformer: %s: attention mask of %d values for batch %d × seq %d", op, len(attentionMask), batch, seq))
	}
	e := m.Embeddings
	if n := e.Position.Weight.Shape[0]; seq > n {
		panic(fmt.Sprintf("transformer: %s: sequence length %d exceeds max_position_embeddings %d", op, seq, n))
	}
	checkIDs(op, "token id", ids, e.Word.Weight.Shape[0])
	if tokenTypes == nil {
		tokenTypes = zeroIDs(len(ids))
	} else {
		checkIDs(op, "token type", tokenTypes, e.TokenType.Weight.Shape[0])
	}
	x := g.Add(e.Word.Forward(g, ids, batch, seq), e.TokenType.Forward(g, tokenTypes, batch, seq))
	x = g.Add(x, e.Position.Forward(g, positionIDs(seq), seq))
	x = e.Dropout.Forward(g, e.LayerNorm.Forward(g, x))
	opt := nn.AttentionOptions{KeyPaddingFloat: keyPadding(g, attentionMask)}
	for _, l := range m.Layers {
		x = l.ForwardWith(g, x, opt)
	}
	return x
}

// checkIDs panics on an id outside [0, n).
func checkIDs(op, what string, ids []int, n int) {
	for i, id := range ids {
		if id < 0 || id >= n {
			panic(fmt.Sprintf("transformer: %s: %s %d at index %d is outside [0, %d)", op, what, id, i, n))
		}
	}
}

// keyPadding turns Hugging Face's attention_mask (true = real token) into
// an additive key-padding mask (-Inf at padding) in graph memory, valid
// until the graph's Reset (the attention's backward may read it); nil when
// every token is real.
func keyPadding(g *nn.Graph, attentionMask []bool) []float32 {
	all := true
	for _, ok := range attentionMask {
		all = all && ok
	}
	if all {
		return nil
	}
	kp := g.Zeros(len(attentionMask)).Data
	inf := float32(math.Inf(-1))
	for i, ok := range attentionMask {
		if !ok {
			kp[i] = inf
		}
	}
	return kp
}

// zeroTable holds zeros shared read-only by every model and goroutine (the
// token types when none are given); it is replaced, never modified, when a
// longer one is needed.
var zeroTable atomic.Pointer[[]int]

func zeroIDs(n int) []int {
	if t := zeroTable.Load(); t != nil && len(*t) >= n {
		return (*t)[:n]
	}
	t := make([]int, max(n, 4096))
	zeroTable.Store(&t)
	return t[:n]
}

// Forward applies the layer to x (batch, seq, hidden), every position
// attending to every other: ForwardWith with the zero options.
func (l *BERTLayer) Forward(g *nn.Graph, x *nn.Tensor) *nn.Tensor {
	return l.ForwardWith(g, x, nn.AttentionOptions{})
}

// ForwardWith applies the layer to x (batch, seq, hidden) with the
// attention options opt (the key padding).
func (l *BERTLayer) ForwardWith(g *nn.Graph, x *nn.Tensor, opt nn.AttentionOptions) *nn.Tensor {
	if len(x.Shape) != 3 || x.Shape[2] != l.Query.Weight.Shape[1] {
		panic(fmt.Sprintf("transformer: BERTLayer.ForwardWith: input shape %v, want (batch, seq, %d)", x.Shape, l.Query.Weight.Shape[1]))
	}
	q, k, v := l.Query.Forward(g, x), l.Key.Forward(g, x), l.Value.Forward(g, x)
	var drop nn.Drop
	if l.AttnDropout.Active() {
		drop = nn.Drop{P: l.AttnDropout.P, Seed: l.AttnDropout.Next(g, "BERTLayer")}
	}
	ctx, _ := g.Attention(q, k, v, l.Heads, opt, drop)
	a := l.AttnNorm.Forward(g, g.Add(l.AttnOutDropout.Forward(g, l.AttnOut.Forward(g, ctx)), x))
	h := l.Output.Forward(g, l.Act.Forward(g, l.Intermediate.Forward(g, a)))
	return l.OutNorm.Forward(g, g.Add(l.OutDropout.Forward(g, h), a))
}

// Forward returns the logits (batch, num_labels) of the batch; the inputs
// are BERT.Forward's.
func (m *BERTClassifier) Forward(g *nn.Graph, ids, tokenTypes []int, attentionMask []bool, batch, seq int) *nn.Tensor {
	h := m.BERT.forwardHidden(g, "BERTClassifier.Forward", ids, tokenTypes, attentionMask, batch, seq)
	// Not in place: tanh's backward reads the pooled output.
	return m.Classifier.Forward(g, m.Dropout.Forward(g, m.BERT.pool(g, h)))
}

// Visit lists the submodules under Hugging Face's names.
func (m *BERT) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("embeddings", m.Embeddings)
	child("encoder", bertEncoder{m.Layers})
	child("pooler", bertPooler{m.Pooler})
}

// Visit lists the embeddings and their LayerNorm and dropout.
func (e *BERTEmbeddings) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("word_embeddings", e.Word)
	child("position_embeddings", e.Position)
	child("token_type_embeddings", e.TokenType)
	child("LayerNorm", e.LayerNorm)
	child("dropout", e.Dropout)
}

// Visit lists attention, intermediate and output under Hugging Face's names.
func (l *BERTLayer) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("attention", bertAttention{l})
	child("intermediate", bertIntermediate{l})
	child("output", bertOutput{l.Output, l.OutNorm, l.OutDropout, "BertOutput"})
}

// Visit lists "bert", "dropout" and "classifier".
func (m *BERTClassifier) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("bert", m.BERT)
	child("dropout", m.Dropout)
	child("classifier", m.Classifier)
}

// The containers of Hugging Face's module tree, for the names and printing.
type (
	bertEncoder      struct{ layers []*BERTLayer }
	bertLayerList    struct{ layers []*BERTLayer }
	bertPooler       struct{ dense *nn.Linear }
	bertAttention    struct{ l *BERTLayer }
	bertSelf         struct{ l *BERTLayer }
	bertIntermediate struct{ l *BERTLayer }
	bertOutput       struct {
		dense *nn.Linear
		norm  *nn.LayerNorm
		drop  *nn.Dropout
		name  string
	}
	tanhModule struct{}
)

func (e bertEncoder) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("layer", bertLayerList(e))
}

func (e bertLayerList) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	for i, l := range e.layers {
		child(strconv.Itoa(i), l)
	}
}

func (p bertPooler) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("dense", p.dense)
	child("activation", tanhModule{})
}

func (a bertAttention) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("self", bertSelf(a))
	child("output", bertOutput{a.l.AttnOut, a.l.AttnNorm, a.l.AttnOutDropout, "BertSelfOutput"})
}

func (s bertSelf) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("query", s.l.Query)
	child("key", s.l.Key)
	child("value", s.l.Value)
	child("dropout", s.l.AttnDropout)
}

func (i bertIntermediate) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("dense", i.l.Intermediate)
	child("intermediate_act_fn", i.l.Act)
}

func (o bertOutput) Visit(_ func(string, *nn.Tensor), child func(string, nn.Module)) {
	child("dense", o.dense)
	child("LayerNorm", o.norm)
	child("dropout", o.drop)
}

func (tanhModule) Visit(func(string, *nn.Tensor), func(string, nn.Module)) {}

// Describe returns BertModel.
func (m *BERT) Describe() string { return "BertModel" }

// Describe returns BertEmbeddings.
func (e *BERTEmbeddings) Describe() string { return "BertEmbeddings" }

// Describe returns BertLayer.
func (l *BERTLayer) Describe() string { return "BertLayer" }

// Describe returns BertForSequenceClassification.
func (m *BERTClassifier) Describe() string { return "BertForSequenceClassification" }

func (bertEncoder) Describe() string      { return "BertEncoder" }
func (bertLayerList) Describe() string    { return "ModuleList" }
func (bertPooler) Describe() string       { return "BertPooler" }
func (bertAttention) Describe() string    { return "BertAttention" }
func (bertSelf) Describe() string         { return "BertSelfAttention" }
func (bertIntermediate) Describe() string { return "BertIntermediate" }
func (o bertOutput) Describe() string     { return o.name }
func (tanhModule) Describe() string       { return "Tanh()" }
