// Writes tokenizer/testdata/wordpiece/golden_<vocab>.json: the tokenizations of
// tokenizer/testdata/wordpiece/corpus.json by transformers.js's BertTokenizer (an independent
// JavaScript port of Hugging Face's fast BERT tokenizer) on each committed vocabulary
// (vocab_uncased.txt lower-cased with accents stripped, vocab_cased.txt as is). The tokenizer is
// built offline from a tokenizer.json-shaped object made here (BertNormalizer, BertPreTokenizer,
// WordPiece, the [CLS]/[SEP] template, WordPiece decoder), so nothing is downloaded.
// Run once from the repository root; the Go tests only read the JSON. See scripts/README.md.
//
//   mkdir -p /tmp/tokjs && (cd /tmp/tokjs && npm init -y && npm install --ignore-scripts @huggingface/transformers@3.8.1)
//   NODE_PATH=/tmp/tokjs/node_modules node scripts/golden_wordpiece.mjs
import fs from 'node:fs';
import path from 'node:path';

const modDir = path.join(process.env.NODE_PATH || '/tmp/tokjs/node_modules', '@huggingface/transformers');
const pkg = JSON.parse(fs.readFileSync(path.join(modDir, 'package.json'), 'utf-8'));
const { BertTokenizer } = await import(path.join(modDir, 'src/tokenizers.js'));

const dir = 'tokenizer/testdata/wordpiece';
const corpus = JSON.parse(fs.readFileSync(path.join(dir, 'corpus.json'), 'utf-8'));
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

function makeTokenizer(vocabFile, lowercase) {
  const lines = fs.readFileSync(path.join(dir, vocabFile), 'utf-8').split('\n');
  lines.pop(); // the final newline
  const vocab = {};
  lines.forEach((tok, i) => { vocab[tok] = i; });
  const sp = (t, type) => ({ SpecialToken: { id: t, type_id: type } });
  const json = {
    added_tokens: specials.map((t) => ({
      id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [sp('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, sp('[SEP]', 0)],
      pair: [sp('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, sp('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } }, sp('[SEP]', 1)],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  const config = {
    tokenizer_class: 'BertTokenizer', do_lower_case: lowercase, model_max_length: 512, clean_up_tokenization_spaces: true,
    unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
  };
  return new BertTokenizer(json, config);
}

const plain = (x) => Array.from(x.data ?? x, Number); // tensors or arrays to plain arrays
const rows = (t) => { const d = plain(t); const [n, m] = t.dims; return Array.from({ length: n }, (_, i) => d.slice(i * m, (i + 1) * m)); };

for (const [name, lowercase] of [['uncased', true], ['cased', false]]) {
  const tok = makeTokenizer(`vocab_${name}.txt`, lowercase);
  const texts = corpus.texts.map((text) => {
    const enc = tok._encode_plus(text, { add_special_tokens: true });
    return {
      text,
      tokens: tok.tokenize(text),
      ids: enc.input_ids,
      decoded: tok.decode(enc.input_ids),
      decoded_skip: tok.decode(enc.input_ids, { skip_special_tokens: true }),
    };
  });
  const pairs = corpus.pairs.map(([a, b]) => {
    const enc = tok._encode_plus(a, { text_pair: b, add_special_tokens: true });
    return { a, b, ids: enc.input_ids, type_ids: enc.token_type_ids, attention_mask: enc.attention_mask };
  });
  const batches = corpus.batches.map((bt) => {
    const opts = { padding: bt.padding === 'max_length' ? 'max_length' : true, return_tensor: true };
    if (bt.max_length) opts.max_length = bt.max_length;
    if (bt.pairs) opts.text_pair = bt.pairs;
    const out = tok(bt.texts, opts);
    return { ...bt, ids: rows(out.input_ids), type_ids: rows(out.token_type_ids), attention_mask: rows(out.attention_mask) };
  });
  const file = path.join(dir, `golden_${name}.json`);
  const lines = [
    `{"generator": ${JSON.stringify(`@huggingface/transformers ${pkg.version} BertTokenizer under Node ${process.version}`)},`,
    `"texts": [\n${texts.map((x) => JSON.stringify(x)).join(',\n')}\n],`,
    `"pairs": [\n${pairs.map((x) => JSON.stringify(x)).join(',\n')}\n],`,
    `"batches": [\n${batches.map((x) => JSON.stringify(x)).join(',\n')}\n]}`,
  ];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  console.log(`wrote ${file}: ${texts.length} texts, ${pairs.length} pairs, ${batches.length} batches`);
}
