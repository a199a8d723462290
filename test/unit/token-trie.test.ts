// Token masks from the vocabulary trie: every mask must equal the brute-force answer (each token's
// bytes stepped through the automaton), on hand-written automata, real vocabularies and random DFAs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEAD, type ByteAutomaton } from '../../src/grammar/automaton.js';
import { TokenTrie } from '../../src/grammar/token-trie.js';
import { TokenMask } from '../../src/grammar/token-mask.js';
import { MaskCache } from '../../src/grammar/mask-cache.js';
import { acceptsToken, advanceTokens } from '../../src/grammar/advance.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { SHARED, STORIES } from '../helpers/models.js';

const QWEN2 = join(SHARED, 'models', 'vocab', 'ggml-vocab-qwen2.gguf');

/** A DFA given by its transition function over states 0 .. stateCount - 1. */
class FunctionDfa implements ByteAutomaton {
  readonly start = 0;
  constructor(
    readonly stateCount: number,
    private readonly step: (state: number, byte: number) => number,
    private readonly accepts: (state: number) => boolean,
  ) {}
  next(state: number, byte: number): number {
    return this.step(state, byte);
  }
  accepting(state: number): boolean {
    return this.accepts(state);
  }
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;
const QUOTE = 0x22;

/** `[0-9]+`: 0 before the first digit, 1 after. */
const digits = new FunctionDfa(
  2,
  (_, byte) => (isDigit(byte) ? 1 : DEAD),
  (state) => state === 1,
);

/** `"[a-z]*"`: 0 before the opening quote, 1 inside, 2 after the closing one. */
const quotedLowercase = new FunctionDfa(
  3,
  (state, byte) => {
    if (state === 0) return byte === QUOTE ? 1 : DEAD;
    if (state === 1) return byte === QUOTE ? 2 : byte >= 0x61 && byte <= 0x7a ? 1 : DEAD;
    return DEAD;
  },
  (state) => state === 2,
);

// Any valid UTF-8. State 0 is a character boundary; otherwise the state packs how many continuation
// bytes are still due (1-3) with the range the next one must fall in (after E0, ED, F0, F4).
const FULL = 0;
const AFTER_E0 = 1;
const AFTER_ED = 2;
const AFTER_F0 = 3;
const AFTER_F4 = 4;
const utf8State = (due: number, range: number) => due * 5 + range;
const anyUtf8 = new FunctionDfa(
  20,
  (state, byte) => {
    if (state === 0) {
      if (byte < 0x80) return 0;
      if (byte >= 0xc2 && byte <= 0xdf) return utf8State(1, FULL);
      if (byte === 0xe0) return utf8State(2, AFTER_E0);
      if (byte === 0xed) return utf8State(2, AFTER_ED);
      if (byte >= 0xe1 && byte <= 0xef) return utf8State(2, FULL);
      if (byte === 0xf0) return utf8State(3, AFTER_F0);
      if (byte === 0xf4) return utf8State(3, AFTER_F4);
      if (byte >= 0xf1 && byte <= 0xf3) return utf8State(3, FULL);
      return DEAD;
    }
    const due = Math.floor(state / 5);
    const range = state % 5;
    const [low, high] = [
      [0x80, 0xbf],
      [0xa0, 0xbf],
      [0x80, 0x9f],
      [0x90, 0xbf],
      [0x80, 0x8f],
    ][range];
    if (byte < low || byte > high) return DEAD;
    return due === 1 ? 0 : utf8State(due - 1, FULL);
  },
  (state) => state === 0,
);
const UTF8_STATES = [
  0,
  utf8State(1, FULL),
  utf8State(2, FULL),
  utf8State(2, AFTER_E0),
  utf8State(2, AFTER_ED),
  utf8State(3, FULL),
  utf8State(3, AFTER_F0),
  utf8State(3, AFTER_F4),
];

/** Random DFAs: bytes fall into a few classes, with a random transition table over them. */
class TableDfa implements ByteAutomaton {
  readonly start = 0;
  constructor(
    readonly stateCount: number,
    private readonly classOf: number[],
    private readonly classes: number,
    private readonly table: number[],
  ) {}
  next(state: number, byte: number): number {
    return this.table[state * this.classes + this.classOf[byte]];
  }
  accepting(): boolean {
    return false;
  }
}

const SELF = -2;
const randomDfa = fc
  .record({ states: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 1, max: 4 }) })
  .chain(({ states, classes }) =>
    fc
      .record({
        classOf: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: 256, maxLength: 256 }),
        // Few DEAD entries, so that long tokens sometimes survive, and many loops back to the same
        // state (SELF), which let the walk allow whole subtrees without visiting them.
        table: fc.array(
          fc.oneof(
            { weight: 1, arbitrary: fc.constant(DEAD) },
            { weight: 3, arbitrary: fc.constant(SELF) },
            { weight: 3, arbitrary: fc.integer({ min: 0, max: states - 1 }) },
          ),
          { minLength: states * classes, maxLength: states * classes },
        ),
        state: fc.integer({ min: -1, max: states - 1 }),
      })
      .map(({ classOf, table, state }) => {
        const targets = table.map((target, i) => (target === SELF ? Math.floor(i / classes) : target));
        return { dfa: new TableDfa(states, classOf, classes, targets), state };
      }),
  );

/** Small vocabularies over few bytes, so that tokens share prefixes and repeat, with unusable ones. */
const randomVocabulary = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 8,
      arbitrary: fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0x22, 0xe4, 0x80), { maxLength: 7 }).map((bytes) => Uint8Array.from(bytes)),
    },
  ),
  { minLength: 1, maxLength: 300 },
);

function bruteForce(automaton: ByteAutomaton, state: number, tokenBytes: readonly (Uint8Array | null)[]): boolean[] {
  return tokenBytes.map((bytes) => bytes !== null && acceptsToken(automaton, state, bytes) !== DEAD);
}

/** Asserts the trie's mask for `state` equals brute force; returns the number allowed. */
function assertMask(
  trie: TokenTrie,
  automaton: ByteAutomaton,
  state: number,
  tokenBytes: readonly (Uint8Array | null)[],
  label: string,
): number {
  const mask = new TokenMask(tokenBytes.length);
  const allowed = trie.allowedTokens(automaton, state, mask);
  const expected = bruteForce(automaton, state, tokenBytes);
  const wrong = expected.findIndex((allow, id) => allow !== mask.has(id));
  assert.equal(
    wrong,
    -1,
    `${label}, state ${state}: token ${wrong} (${JSON.stringify(Buffer.from(tokenBytes[wrong] ?? []).toString('latin1'))}) should be ${expected[wrong] ? 'allowed' : 'refused'}`,
  );
  assert.equal(allowed, expected.filter(Boolean).length, `${label}, state ${state}: count`);
  assert.equal(mask.count(), allowed);
  return allowed;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('token mask', () => {
  it('sets, tests, counts and clears bits, sizes not a multiple of 32 included', () => {
    const mask = new TokenMask(70);
    assert.equal(mask.words.length, 3);
    for (const id of [0, 31, 32, 63, 69]) mask.set(id);
    mask.set(31);
    assert.equal(mask.count(), 5);
    assert.ok(mask.has(31) && mask.has(69) && !mask.has(30) && !mask.has(70) && !mask.has(-1));
    mask.clear();
    assert.equal(mask.count(), 0);
  });

  it('applies itself to logits: disallowed tokens, and any past its size, get -Infinity', () => {
    const mask = new TokenMask(40);
    for (let id = 0; id < 32; id++) mask.set(id);
    mask.set(35);
    const logits = Float32Array.from({ length: 42 }, (_, i) => i + 0.5);
    mask.applyTo(logits);
    for (let id = 0; id < 42; id++) assert.equal(logits[id], id < 32 || id === 35 ? id + 0.5 : -Infinity, `logit ${id}`);
  });

  it('property: applying equals setting each disallowed logit, whatever the sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: -40, max: 40 }),
        fc.array(fc.nat(299), { maxLength: 300 }),
        (size, extra, ids) => {
          const mask = new TokenMask(size);
          for (const id of ids) if (id < size) mask.set(id);
          const logits = new Float32Array(Math.max(0, size + extra)).fill(1);
          mask.applyTo(logits);
          logits.forEach((logit, id) => assert.equal(logit, mask.has(id) ? 1 : -Infinity, `logit ${id}`));
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('token trie', () => {
  const words = ['1', '12', '12', '123', 'a', 'ab', '"', '"a', '"ab"', '"a"b', '"AB"', '9x', '', '00', 'é', '\u{1F600}'];
  const tokenBytes = [...words.map(utf8), null, Uint8Array.of(0xe4), Uint8Array.of(0x80, 0x80), Uint8Array.of(0xf0, 0x9f)];
  const trie = new TokenTrie(tokenBytes);

  it('lays nodes out in pre-order: one per distinct prefix, children by byte, subtrees contiguous', () => {
    const prefixes = new Set<string>();
    for (const bytes of tokenBytes)
      for (let k = 1; k <= (bytes?.length ?? 0); k++) prefixes.add(Buffer.from(bytes!.subarray(0, k)).toString('hex'));
    assert.equal(trie.nodeCount, prefixes.size + 1);
    assert.equal(trie.subtreeEnd[0], trie.nodeCount);
    const path: number[] = [];
    for (let node = 1; node < trie.nodeCount; node++) {
      const depth = trie.depth(node);
      path.length = depth - 1;
      path.push(trie.edgeByte(node));
      assert.ok(prefixes.has(Buffer.from(path).toString('hex')), `node ${node} is the prefix ${path}`);
      assert.ok(trie.subtreeEnd[node] > node && trie.subtreeEnd[node] <= trie.nodeCount);
      for (let child = node + 1; child < trie.subtreeEnd[node]; child++) assert.ok(trie.depth(child) > depth);
      if (trie.subtreeEnd[node] < trie.nodeCount) assert.ok(trie.depth(trie.subtreeEnd[node]) <= depth);
    }
    const ids = Array.from(trie.tokenIds).sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      tokenBytes.flatMap((bytes, id) => (bytes && bytes.length > 0 ? [id] : [])),
    );
    assert.equal(trie.maxDepth, 4);
  });

  it("keeps each token's bytes", () => {
    tokenBytes.forEach((bytes, id) => assert.deepEqual(trie.tokenBytes(id), bytes ?? new Uint8Array(0)));
  });

  it('masks equal brute force for [0-9]+, "[a-z]*" and any UTF-8, in every state', () => {
    for (const state of [0, 1]) assertMask(trie, digits, state, tokenBytes, 'digits');
    for (const state of [0, 1, 2]) assertMask(trie, quotedLowercase, state, tokenBytes, 'quoted');
    for (const state of UTF8_STATES) assertMask(trie, anyUtf8, state, tokenBytes, 'utf8');
    const mask = new TokenMask(tokenBytes.length);
    trie.allowedTokens(digits, 0, mask);
    assert.deepEqual(
      [...Array(tokenBytes.length).keys()].filter((id) => mask.has(id)),
      [0, 1, 2, 3, 13],
    );
  });

  it('refuses everything from DEAD, and never allows empty or missing tokens', () => {
    const mask = new TokenMask(tokenBytes.length);
    mask.set(0);
    assert.equal(trie.allowedTokens(digits, DEAD, mask), 0);
    assert.equal(mask.count(), 0);
    const everything = new FunctionDfa(
      1,
      () => 0,
      () => true,
    );
    assert.equal(trie.allowedTokens(everything, 0, mask), tokenBytes.filter((bytes) => bytes && bytes.length > 0).length);
    assert.ok(!mask.has(12) && !mask.has(16));
  });

  it('rejects a mask of another size', () => {
    assert.throws(() => trie.allowedTokens(digits, 0, new TokenMask(3)), /mask of 3 tokens/);
  });

  it('steps one token or several: the state after them, or DEAD', () => {
    assert.equal(acceptsToken(quotedLowercase, 0, utf8('"ab')), 1);
    assert.equal(acceptsToken(quotedLowercase, 1, utf8('b"')), 2);
    assert.equal(acceptsToken(quotedLowercase, 2, utf8('a')), DEAD);
    assert.equal(acceptsToken(quotedLowercase, 0, new Uint8Array(0)), DEAD);
    assert.equal(advanceTokens(quotedLowercase, 0, trie, [7, 4, 6]), 2);
    assert.equal(advanceTokens(quotedLowercase, 0, trie, [7, 0, 4]), DEAD);
    assert.equal(advanceTokens(anyUtf8, 0, trie, [17, 18]), 0, 'a character split across two tokens');
    assert.equal(advanceTokens(anyUtf8, 0, trie, [18]), DEAD);
    assert.equal(advanceTokens(anyUtf8, 0, trie, [19]), utf8State(2, FULL));
  });

  it('gives the same masks without subtree byte sets', () => {
    const plain = new TokenTrie(tokenBytes, { subtreeByteSets: false });
    assert.ok(plain.memoryBytes < trie.memoryBytes);
    for (const state of UTF8_STATES) assertMask(plain, anyUtf8, state, tokenBytes, 'utf8, no byte sets');
  });

  it('property: on random vocabularies and random DFAs, the mask equals brute force', () => {
    fc.assert(
      fc.property(randomVocabulary, randomDfa, fc.boolean(), (vocabulary, { dfa, state }, byteSets) => {
        assertMask(new TokenTrie(vocabulary, { subtreeByteSets: byteSets }), dfa, state, vocabulary, 'random');
      }),
      { numRuns: 500, seed: 20240611 },
    );
  });
});

describe('mask cache', () => {
  const tokenBytes = ['"', '"a', 'ab', 'b"', '1', '12', 'a"1'].map(utf8);
  const trie = new TokenTrie(tokenBytes);

  it('answers as the walk does, from the cache on a repeated state', () => {
    const cache = new MaskCache(trie, quotedLowercase, 2);
    const mask = new TokenMask(tokenBytes.length);
    for (const state of [0, 1, 0, 1, 2, 1, 0, DEAD]) {
      const allowed = cache.allowedTokens(state, mask);
      const direct = new TokenMask(tokenBytes.length);
      assert.equal(allowed, trie.allowedTokens(quotedLowercase, state, direct));
      assert.deepEqual(mask.words, direct.words, `state ${state}`);
    }
    // 0, 1 miss; 0, 1 hit; 2 misses and evicts 0; 1 hits; 0 misses and evicts 2; DEAD misses.
    assert.deepEqual({ hits: cache.hits, misses: cache.misses, size: cache.size }, { hits: 3, misses: 5, size: 2 });
  });

  it('needs room for one mask at least', () => {
    assert.throws(() => new MaskCache(trie, digits, 0), /at least one/);
  });
});

describe('token trie on real vocabularies', () => {
  const models: { name: string; tokenBytes: Uint8Array[]; trie: TokenTrie }[] = [];
  before(() => {
    for (const path of [STORIES, QWEN2]) {
      const model = LlamaModel.load(path, { vocabOnly: true });
      const vocabulary = model.vocabulary;
      const tokenBytes = Array.from({ length: vocabulary.vocabSize }, (_, id) => vocabulary.tokenBytes(id));
      model.free();
      models.push({ name: path.split('/').pop()!, tokenBytes, trie: new TokenTrie(tokenBytes) });
    }
  });
  after(() => {
    models.length = 0;
  });

  it('reads token bytes: raw bytes for byte tokens, empty for control tokens', () => {
    const [stories, qwen2] = models;
    assert.equal(stories.tokenBytes.length, 512);
    assert.deepEqual([...stories.tokenBytes[1]], [], 'BOS is a control token');
    assert.deepEqual([...stories.tokenBytes[3 + 0x0a]], [0x0a], '<0x0A> is the newline byte');
    assert.equal(qwen2.tokenBytes.length, 151_936);
    assert.deepEqual([...qwen2.tokenBytes[151_643]], [], '<|endoftext|>');
    assert.equal(Buffer.from(qwen2.tokenBytes[1]).toString(), '"');
  });

  it('masks equal brute force on every token, for several states of each automaton', () => {
    for (const { name, tokenBytes, trie } of models) {
      for (const state of [0, 1]) assertMask(trie, digits, state, tokenBytes, `${name} digits`);
      for (const state of [0, 1, 2]) assertMask(trie, quotedLowercase, state, tokenBytes, `${name} quoted`);
      for (const state of UTF8_STATES) {
        const allowed = assertMask(trie, anyUtf8, state, tokenBytes, `${name} utf8`);
        assert.ok(allowed > 0, `${name}: some token continues UTF-8 state ${state}`);
      }
    }
  });

  it('property: random DFAs over the Qwen2 and stories vocabularies, mask equals brute force', () => {
    for (const { name, tokenBytes, trie } of models) {
      fc.assert(
        fc.property(randomDfa, ({ dfa, state }) => {
          assertMask(trie, dfa, state, tokenBytes, `${name} random`);
        }),
        { numRuns: name.includes('qwen2') ? 15 : 100, seed: 7 },
      );
    }
  });
});
