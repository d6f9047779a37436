package transformer

import (
	"fmt"

	"github.com/simdformer/simdformer/nn"
)

// LMOptions are LM.ForwardWith's optional inputs beyond Tokens: Hugging
// Face's position_ids. The zero value is LM.Forward.
type LMOptions struct {
	// PositionIDs (batch·seq) are the learned positions of each token, each
	// in [0, max_positions). With left padding Hugging Face uses
	// cumsum(attention_mask)-1 (see PositionIDsFromPadding). nil: 0..seq-1.
	PositionIDs []int
}

// ForwardWith is Forward with explicit position ids, for batches padded on
// either side (tok.Padding is Hugging Face's attention_mask inverted: true
// for padding, which no position attends to). A padded query row whose
// keys are all padding gets a zero attention context: finite logits to be
// ignored (label -100); Hugging Face fills those rows differently. tok's
// and opt's slices must not change until Backward. Several goroutines may
// call it on one model, each with its own graph.
func (m *LM) ForwardWith(g *nn.Graph, tok Tokens, opt LMOptions) *nn.Tensor {
	tok.check()
	if opt.PositionIDs != nil && len(opt.PositionIDs) != len(tok.IDs) {
		panic(fmt.Sprintf("transformer: LM.ForwardWith: %d position ids for batch %d × seq %d", len(opt.PositionIDs), tok.Batch, tok.Seq))
	}
	var x *nn.Tensor
	if opt.PositionIDs == nil {
		x = embed(g, m.Wte, m.Wpe, tok)
	} else {
		x = g.Add(m.Wte.Forward(g, tok.IDs, tok.Batch, tok.Seq), m.Wpe.Forward(g, opt.PositionIDs, tok.Batch, tok.Seq))
	}
	x = m.Drop.Forward(g, x)
	x = m.Blocks.ForwardWith(g, x, nn.AttentionOptions{KeyPadding: tok.Padding, Scale: m.AttnScale})
	x = m.LnF.Forward(g, x)
	return g.Linear(x, m.HeadWeight(), nil)
}

// HeadWeight returns the output projection (vocab, embed): Head when
// untied, else the token embedding.
func (m *LM) HeadWeight() *nn.Tensor {
	if m.Head != nil {
		return m.Head
	}
	return m.Wte.Weight
}

// headWeight lists an untied head as "lm_head.weight".
type headWeight struct{ w *nn.Tensor }

func (h headWeight) Visit(param func(string, *nn.Tensor), _ func(string, nn.Module)) {
	param("weight", h.w)
}

// ShiftLabels turns Hugging Face labels (batch·seq, -100 = ignore) into
// per-position targets for CrossEntropyLoss on the logits of every position:
// dst[b, t] = labels[b, t+1] and -100 at the last position, so the mean
// loss is GPT2LMHeadModel's (logits[:, :-1] against labels[:, 1:]). dst may
// be nil (then allocated) and must not alias labels.
func ShiftLabels(dst, labels []int, batch, seq int) []int {
	if len(labels) != batch*seq {
		panic(fmt.Sprintf("transformer: ShiftLabels: %d labels for batch %d × seq %d", len(labels), batch, seq))
	}
	if dst == nil {
		dst = make([]int, len(labels))
	}
	for b := 0; b < batch; b++ {
		row := labels[b*seq : (b+1)*seq]
		out := dst[b*seq : (b+1)*seq]
		copy(out, row[1:])
		out[seq-1] = -100
	}
	return dst
}

// PositionIDsFromPadding returns Hugging Face's position ids for a padded
// batch: the count of real tokens before each one along its row
// (cumsum(attention_mask)-1), and 1 at padding (what
// GPT2LMHeadModel.prepare_inputs_for_generation uses). dst may be nil.
func PositionIDsFromPadding(dst []int, padding []bool, batch, seq int) []int {
	if len(padding) != batch*seq {
		panic(fmt.Sprintf("transformer: PositionIDsFromPadding: %d padding values for batch %d × seq %d", len(padding), batch, seq))
	}
	if dst == nil {
		dst = make([]int, len(padding))
	}
	for b := 0; b < batch; b++ {
		c := 0
		for t := 0; t < seq; t++ {
			i := b*seq + t
			if !padding[i] {
				dst[i] = c
				c++
			} else {
				dst[i] = 1
			}
		}
	}
	return dst
}
