// Package transformer builds and trains transformers on package nn: the
// blocks and models of the tutorial "Dropout in Transformers", with dropout
// at every place transformers put it and PyTorch's state_dict names, so
// weights move between Go and PyTorch unchanged.
//
// # Building blocks
//
//   - [Block]: one encoder block, post-norm like the tutorial's
//     TransformerBlock and nn.TransformerEncoderLayer, or pre-norm
//     (NormFirst, GPT-2); ReLU, exact GELU or tanh GELU; optional causal
//     masking (the tutorial's MaskedTransformerBlock); separate rates for the
//     attention probabilities, the feed-forward hidden layer and the residual
//     branches; optional stochastic depth (DropPath).
//   - [Encoder]: a stack of blocks, with a DropPath rate rising linearly with
//     depth.
//   - [DecoderBlock] and [Decoder]: causal self-attention, cross-attention over
//     the encoder's output (with its own key-padding mask) and the
//     feed-forward sublayer, dropout at each (nn.TransformerDecoderLayer).
//
// # Models
//
//   - [Classifier]: the tutorial's SimpleTransformerClassifier (embedding,
//     optional learned positions and embedding dropout, blocks, a linear head
//     on the first token).
//   - [TorchEncoder]: PyTorch's nn.TransformerEncoder (batch_first) of
//     nn.TransformerEncoderLayer blocks with an optional final norm, under
//     its state_dict keys (layers.{i}.self_attn.*, …, norm.*), so such a
//     model's weights load here unchanged.
//   - [TorchDecoder]: PyTorch's nn.TransformerDecoder (batch_first) of
//     nn.TransformerDecoderLayer blocks with an optional final norm
//     (layers.{i}.self_attn.*, layers.{i}.multihead_attn.*, …, norm.*), with
//     tgt/memory masks, both key-padding masks and tgt_is_causal through
//     [DecoderOptions].
//   - [LM]: a GPT-style causal language model (token and position
//     embeddings, embedding dropout, pre-norm causal blocks, tied or untied
//     output head, greedy or temperature sampling with [LM.Generate]).
//     It is Hugging Face's GPT-2: [LoadGPT2] reads a GPT2LMHeadModel
//     directory (config.json, model.safetensors in F32/F16/BF16) and
//     [LM.SaveGPT2] writes one back; [LM.ForwardWith] takes position ids
//     besides Tokens.Padding (batches padded on either side); [KVCache] with [LM.Step]
//     decodes incrementally and [Generator] samples (greedy, temperature,
//     top-k, top-p, stop tokens) without allocating per token;
//     [SaveCheckpoint] and [LoadCheckpoint] resume training bit for bit.
//   - [BERT] and [BERTClassifier]: Hugging Face's BertModel and
//     BertForSequenceClassification under their state_dict names (separate
//     query/key/value projections feeding the attention directly, post-norm
//     layers, a tanh pooler, dropout at hidden_dropout_prob,
//     attention_probs_dropout_prob and classifier_dropout). [LoadBERT] and
//     [LoadBERTClassifier] read a Hugging Face directory (config.json,
//     model.safetensors in F32/F16/BF16; keys with or without "bert.", old
//     LayerNorm.gamma/beta names, the position_ids buffer and cls.*
//     pretraining heads ignored), [BERT.SaveBERT] and
//     [BERTClassifier.SaveBERTClassifier] write one back; Forward takes
//     ids, token types and Hugging Face's attention mask (true = real
//     token); [NewBERTClassifierFrom] puts a new head on a pretrained BERT.
//   - [Seq2Seq]: an encoder–decoder model with teacher-forced training
//     ([Seq2Seq.Loss]) and greedy decoding ([Seq2Seq.Greedy]).
//
// # Inputs and masks
//
// One vocabulary everywhere: Forward is the plain call, ForwardWith the
// same call with options. Blocks, encoders and [TorchEncoder] take
// Forward(g, x) (so they are nn.Layers) and ForwardWith(g, x, opt) with opt
// an nn.AttentionOptions (Mask, BoolMask, KeyPadding, Causal, …); decoders
// and [TorchDecoder] take Forward(g, x, memory) and
// ForwardWith(g, x, memory, opt) with a [DecoderOptions] holding the options
// of the self-attention and of the cross-attention over the memory. Token
// models take Forward(g, ids, batch, seq) ([Classifier.Forward],
// [LM.Forward], [LM.Loss]) and, to batch sequences of different lengths,
// ForwardWith of [Tokens]: the ids of Batch sequences of Seq tokens and
// their Padding, which every attention ignores as keys
// ([Classifier.ForwardWith], [LM.ForwardWith], [LM.LossWith],
// [Seq2Seq.Encode], [Seq2Seq.Decode]). BERT follows Hugging Face's
// argument order instead (ids, token types, attention mask).
//
// Every model is an nn.Module: nn.Train and nn.Eval switch dropout,
// nn.SeedDropout makes masks reproducible from one seed, nn.Parameters feeds
// an optimizer from nn/optim, and [Describe] prints the structure the way
// PyTorch's print(model) does (each module names itself, see nn.Describer).
//
// Models are safe for concurrent use while nothing modifies them: several
// goroutines may run Forward on one model at once, each with its own
// nn.Graph (training mode and Monte-Carlo dropout included; masks follow
// each graph's seed, see nn.Graph.SetSeed), and Backward too when their
// graphs set LocalGrads (see the nn package documentation).
//
// # Dropout rates
//
// Rates are DROP probabilities, PyTorch's convention (the tutorial writes p
// for the keep probability): 0.1 zeroes one activation in ten and scales the
// others by 1/0.9. [Config] carries them under this package's names and reads
// BERT's (hidden_dropout_prob, attention_probs_dropout_prob) and GPT-2's
// (embd_pdrop, attn_pdrop, resid_pdrop) from JSON; see [Config.UnmarshalJSON].
//
// # Saving and loading
//
// Files are safetensors (package nn/safetensors), with the weights under
// PyTorch's state_dict keys (embedding.weight,
// transformer_blocks.0.attn.in_proj_weight, ….ff.0.weight, ….ff.3.weight,
// ….norm1.weight, classifier.weight, …, or with [EncoderLayerKeys]
// self_attn.*, linear1.*, linear2.*), so torch's load_state_dict reads
// them and PyTorch's files load here. There are three levels, one pair of
// functions each:
//
//   - A model with its configuration: [SaveClassifier]/[LoadClassifier],
//     [SaveLM]/[LoadLM], [SaveSeq2Seq]/[LoadSeq2Seq] and
//     [SaveTorchEncoder]/[LoadTorchEncoder]. The file's metadata holds the
//     model's [Kind] ("model") and its [Config] as JSON ("config"), so the
//     Load function rebuilds the model from the file alone (the config is
//     then m.Config(), or TorchEncoder.Config), and refuses another kind's
//     file with an error naming the kind it holds.
//   - Weights only, into a model you built: nn.SaveFile and nn.LoadFile,
//     for any nn.Module. Use them for files PyTorch wrote
//     (safetensors.torch.save_file(model.state_dict(), path)), which have
//     no config. nn.LoadOptions{} (nn.Strict) demands the exact key set,
//     like load_state_dict(strict=True); AllowMissing and AllowUnexpected
//     relax it.
//   - A configuration alone: [SaveConfig] writes JSON; [ReadConfig] reads
//     either that JSON (or BERT's, GPT-2's or PyTorch's config.json; see
//     [Config.UnmarshalJSON]) or the config of a model file (its header
//     only).
//
// Loading is safe on untrusted files: the header is parsed with bounded
// memory, the config must pass [Config.Validate] (with its limits on sizes,
// per-tensor elements and total parameters), and the file's tensor names and
// shapes are compared with what the config implies before the model is
// allocated, so a small file cannot make a loader allocate a large model;
// the first difference is named in the error. Weights are then decoded
// straight into the new model (F32, or F16, BF16, F64, … converted).
//
// Every file is written atomically and durably: a temporary file in the
// same directory, fsynced, renamed over the destination, then the directory
// fsynced. An existing file keeps its permission bits (a 0600 checkpoint
// stays 0600; new files get 0644 under the umask), a symbolic link is
// written through to its target, and a failed save leaves the old file and
// no temporary file.
//
// The golden tests check forward outputs, gradients and an Adam step
// against PyTorch 1.13 (testdata/transformer).
package transformer
