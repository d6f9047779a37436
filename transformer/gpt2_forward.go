package transformer

import (
	"fmt"
	"sync"

	"github.com/simdformer/simdformer/nn"
)

// LMOptions are LM.ForwardWith's optional inputs, Hugging Face's
// attention_mask and position_ids. The zero value is LM.Forward.
type LMOptions struct {
	// AttentionMask (batch·seq, row-major) is Hugging Face's attention_mask:
	// true (1) for a real token, false (0) for padding, which no position
	// attends to. A padded query row attends to nothing else than padding
	// when left-padded; it gets a zero attention context (finite logits that
	// should be ignored, e.g. with label -100). nil: every token is real.
	AttentionMask []bool
	// PositionIDs (batch·seq) are the learned positions of each token, each
	// in [0, max_positions). With left padding Hugging Face uses
	// cumsum(attention_mask)-1 (see PositionIDsFromMask). nil: 0..seq-1.
	PositionIDs []int
}

// padScratch recycles the key-padding masks ForwardWith derives from
// AttentionMask; attention reads them only during the forward pass.
var padScratch = sync.Pool{New: func() any { return new([]bool) }}

// ForwardWith is Forward with an attention mask and explicit position ids
// (batched inference and training on padded sequences). ids, and opt's
// slices, must not change until Backward. It is safe to call from several
// goroutines with distinct graphs in eval mode.
func (m *LM) ForwardWith(g *nn.Graph, ids []int, batch, seq int, opt LMOptions) *nn.Tensor {
	n := batch * seq
	if batch <= 0 || seq <= 0 || len(ids) != n {
		panic(fmt.Sprintf("transformer: LM.ForwardWith: %d token ids for batch %d × seq %d", len(ids), batch, seq))
	}
	if opt.AttentionMask != nil && len(opt.AttentionMask) != n {
		panic(fmt.Sprintf("transformer: LM.ForwardWith: attention mask of %d values for batch %d × seq %d", len(opt.AttentionMask), batch, seq))
	}
	if opt.PositionIDs != nil && len(opt.PositionIDs) != n {
		panic(fmt.Sprintf("transformer: LM.ForwardWith: %d position ids for batch %d × seq %d", len(opt.PositionIDs), batch, seq))
	}
	var x *nn.Tensor
	if opt.PositionIDs == nil {
		x = embed(g, m.Wte, m.Wpe, ids, batch, seq)
	} else {
		x = g.Add(m.Wte.Forward(g, ids, batch, seq), m.Wpe.Forward(g, opt.PositionIDs, batch, seq))
	}
	x = m.Drop.Forward(g, x)
	ao := nn.AttnOptions{Scale: m.AttnScale}
	if opt.AttentionMask != nil {
		bp := padScratch.Get().(*[]bool)
		defer padScratch.Put(bp)
		if cap(*bp) < n {
			*bp = make([]bool, n)
		}
		kp := (*bp)[:n]
		for i, keep := range opt.AttentionMask {
			kp[i] = !keep
		}
		ao.KeyPaddingMask = kp
	}
	x = m.Blocks.ForwardMasked(g, x, ao)
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

// PositionIDsFromMask returns Hugging Face's position ids for a padded
// batch: cumsum(mask)-1 along each row, and 1 at padding (what
// GPT2LMHeadModel.prepare_inputs_for_generation uses). dst may be nil.
func PositionIDsFromMask(dst []int, mask []bool, batch, seq int) []int {
	if len(mask) != batch*seq {
		panic(fmt.Sprintf("transformer: PositionIDsFromMask: %d mask values for batch %d × seq %d", len(mask), batch, seq))
	}
	if dst == nil {
		dst = make([]int, len(mask))
	}
	for b := 0; b < batch; b++ {
		c := 0
		for t := 0; t < seq; t++ {
			i := b*seq + t
			if mask[i] {
				dst[i] = c
				c++
			} else {
				dst[i] = 1
			}
		}
	}
	return dst
}
