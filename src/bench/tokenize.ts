// Tokenizer scaling: the time to tokenize adversarial and ordinary texts at two sizes, chunked (as
// the server does) and in one llama.cpp call, on every vocabulary given. A time that grows with the
// size ratio is linear; one that grows with its square is quadratic.
import { basename } from 'node:path';
import { LlamaModel } from '../engine/llama/model.js';

const INPUTS: [string, string][] = [
  ['emoji', '😀'],
  ['newlines', '\n'],
  ['words', 'hello world '],
  ['chinese', '你好世界'],
  ['symbols', '!?.,;'],
];

export interface TokenizeRow {
  vocabulary: string;
  input: string;
  bytes: number;
  chunkedMs: number;
  oneCallMs: number | null;
}

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

/** `bytes` is the large size; the small one is a quarter of it. One-call timings are skipped above `oneCallUpTo`. */
export function benchTokenize(paths: string[], bytes: number, oneCallUpTo: number, report: (row: TokenizeRow) => void): void {
  for (const path of paths) {
    const model = LlamaModel.load(path, { vocabOnly: true });
    const vocabulary = model.vocabulary;
    vocabulary.tokenize('x'.repeat(20_000), true); // builds the chunking tables once
    for (const [input, unit] of INPUTS) {
      for (const size of [bytes / 4, bytes]) {
        const text = unit.repeat(Math.max(1, Math.floor(size / Buffer.byteLength(unit))));
        const textBytes = Buffer.byteLength(text);
        const chunkedMs = time(() => vocabulary.tokenize(text, true));
        const oneCallMs = textBytes <= oneCallUpTo ? time(() => vocabulary.tokenizeInOneCall(text, true)) : null;
        report({ vocabulary: basename(path), input, bytes: textBytes, chunkedMs, oneCallMs });
      }
    }
    model.free();
  }
}
