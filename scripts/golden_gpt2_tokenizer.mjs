// Writes tokenizer/testdata/gpt2/golden.json: the token ids that the gpt-3-encoder npm package
// (MIT, the JavaScript port of OpenAI's GPT-2 encoder) gives for every string of
// tokenizer/testdata/gpt2/corpus.json. Run once from the repository root; the Go tests only read
// the JSON. See scripts/README.md.
//
//   mkdir -p /tmp/tokjs && (cd /tmp/tokjs && npm init -y && npm install gpt-3-encoder@1.1.4)
//   NODE_PATH=/tmp/tokjs/node_modules node scripts/golden_gpt2_tokenizer.mjs
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const modDir = path.join(process.env.NODE_PATH || '/tmp/tokjs/node_modules', 'gpt-3-encoder');
const { encode, decode } = require(modDir);
const pkg = JSON.parse(fs.readFileSync(path.join(modDir, 'package.json'), 'utf-8'));

// The vendored files must be the package's own.
for (const f of ['encoder.json', 'vocab.bpe']) {
  const a = fs.readFileSync(path.join(modDir, f));
  const b = fs.readFileSync(path.join('tokenizer/testdata/gpt2', f));
  if (!a.equals(b)) throw new Error(`tokenizer/testdata/gpt2/${f} differs from the package's`);
}

const corpus = JSON.parse(fs.readFileSync('tokenizer/testdata/gpt2/corpus.json', 'utf-8'));
const cases = corpus.map((text) => {
  const ids = encode(text);
  if (ids.some((x) => !Number.isInteger(x))) throw new Error(`non-integer id for ${JSON.stringify(text)}`);
  // gpt-3-encoder's decode uses TextDecoder, which drops a leading U+FEFF; report, don't fail.
  if (decode(ids) !== text) console.warn(`note: JS decode differs for ${JSON.stringify(text)}`);
  return { text, ids };
});
const out = {
  generator: `gpt-3-encoder ${pkg.version} under Node ${process.version}`,
  cases,
};
fs.writeFileSync('tokenizer/testdata/gpt2/golden.json',
  '{"generator": ' + JSON.stringify(out.generator) + ',\n"cases": [\n' +
  cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n');
console.log(`wrote ${cases.length} cases`);
