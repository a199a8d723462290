// Grammars written as data (literal text, free text, schema-held JSON) and special tokens as atoms
// of a grammar: what tool calls are constrained with.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Grammars, type GrammarVocabulary } from '../../src/grammar/grammars.js';
import { tg } from '../../src/grammar/text-grammar.js';
import { grammarAccepts } from '../helpers/tool-formats.js';

describe('text grammars', () => {
  test('free text without a word, and text that may not open with one', () => {
    const without = tg.text('<call>');
    assert.ok(grammarAccepts(without, 'any text, even <call but not the whole word'));
    assert.ok(grammarAccepts(without, ''));
    assert.ok(!grammarAccepts(without, 'a <call> inside'));
    const opening = tg.textOpening([], ['{"name"']);
    assert.ok(grammarAccepts(opening, 'text with {"name": 1} later'));
    assert.ok(!grammarAccepts(opening, '{"name": 1}'));
    assert.ok(!grammarAccepts(opening, ' \n{"name": 1}'));
  });

  test('literal text around a schema-held JSON value, repeated; the whole text may be empty', () => {
    const call = tg.seq(
      tg.literal('<c>'),
      tg.json({ type: 'object', properties: { n: { type: 'integer', maximum: 9 } }, required: ['n'] }),
      tg.literal('</c>'),
    );
    const grammar = tg.seq(tg.text('<c>'), tg.optional(tg.list(call, tg.literal('\n'), 1, 2)));
    assert.ok(grammarAccepts(grammar, ''));
    assert.ok(grammarAccepts(grammar, 'Sure. <c>{"n": 3}</c>\n<c>{"n":4}</c>'));
    assert.ok(!grammarAccepts(grammar, '<c>{"n": 10}</c>'));
    assert.ok(!grammarAccepts(grammar, '<c>{"n": 1}</c>\n<c>{"n": 2}</c>\n<c>{"n": 3}</c>'));
  });
});

describe('special tokens as grammar atoms', () => {
  // Bytes 0-255 as tokens 0-255, then `<c>` as a special token (256) and an end token (257).
  const encoder = new TextEncoder();
  const vocabulary: GrammarVocabulary = {
    vocabSize: 258,
    tokenBytes: (id) => (id < 256 ? Uint8Array.of(id) : new Uint8Array(0)),
    isSpecial: (id) => id >= 256,
    isEndOfGeneration: (id) => id === 257,
    tokenText: (id) => (id === 256 ? '<c>' : id === 257 ? '</s>' : String.fromCharCode(id)),
  };
  const grammar = tg.seq(tg.literal('<c>'), tg.literal('ok'));

  test('a grammar allows a special token only when its text is an atom of the grammar', () => {
    const grammars = new Grammars(vocabulary);
    const plain = grammars.constraint({ type: 'text', grammar }).start();
    assert.ok(!plain.allowed().has(256), 'not an atom: only spelled byte by byte');
    assert.ok(plain.allowed().has('<'.charCodeAt(0)));
    const withAtom = grammars.constraint({ type: 'text', grammar, atoms: ['<c>'] }).start();
    assert.ok(withAtom.allowed().has(256));
    assert.ok(withAtom.permits(256));
    withAtom.accept(256);
    assert.ok(!withAtom.allowed().has(256), 'the atom is spent');
    for (const byte of encoder.encode('ok')) withAtom.accept(byte);
    assert.ok(withAtom.complete);
    assert.ok(withAtom.allowed().has(257), 'the end token where the text is complete');
  });
});
