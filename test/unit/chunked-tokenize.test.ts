// Long texts are tokenized in chunks (linear time); the tokens must be exactly those of one
// llama.cpp call over the whole text, on every vocabulary type we ship.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { SHARED, STORIES } from '../helpers/models.js';

const VOCABS = [
  STORIES,
  ...['llama-spm', 'phi-3', 'qwen2', 'gpt-2', 'llama-bpe'].map((name) => join(SHARED, 'models', 'vocab', `ggml-vocab-${name}.gguf`)),
];

/** llama.cpp's own tokenizer test inputs: odd whitespace, scripts, emoji, code. */
const TEST_INPUTS = readFileSync(join(SHARED, 'models', 'vocab', 'ggml-vocab-llama-spm.gguf.inp'), 'utf8').split('\n__ggml_vocab_test__\n');

const UNITS = [
  '😀',
  '\n',
  'hello world ',
  '你好世界',
  '  spaced   out  ',
  'The quick brown fox. ',
  '<s> </s> <|im_start|>user\n<|im_end|>',
  '!!!abc??',
  'Ünïcödé façade — “quotes” ',
  '\t\tcode(x) { return y; }\n',
  '１２３ 456 7890 ',
  "it's don't we'll ",
  'ab',
  'ทดสอบภาษาไทย',
  '👨‍👩‍👧‍👦🇫🇷',
];

function samples(): string[] {
  const out = UNITS.map((unit) => unit.repeat(Math.ceil(24_000 / unit.length)));
  let state = 7;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  for (let i = 0; i < 12; i++) {
    let text = '';
    while (text.length < 24_000) text += random() < 0.6 ? pick(TEST_INPUTS) : pick(UNITS).repeat(1 + Math.floor(random() * 40));
    out.push(text);
  }
  return out;
}

describe('chunked tokenization', () => {
  const texts = samples();
  for (const path of VOCABS) {
    it(`equals one llama.cpp call: ${path.split('/').pop()}`, () => {
      const model = LlamaModel.load(path, { vocabOnly: true });
      try {
        const vocabulary = model.vocabulary;
        for (const text of texts) {
          for (const addSpecial of [true, false]) {
            const chunked = Array.from(vocabulary.tokenize(text, addSpecial));
            const whole = Array.from(vocabulary.tokenizeInOneCall(text, addSpecial));
            assert.deepEqual(chunked, whole, `text starting ${JSON.stringify(text.slice(0, 40))}`);
          }
        }
      } finally {
        model.free();
      }
    });
  }
});
