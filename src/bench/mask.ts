// Token-mask cost on a real vocabulary: each automaton is driven through a decoding-like sequence of
// states (a seeded random walk over allowed tokens), and every step's full mask is timed: walking the
// trie without and with subtree byte sets, and through the per-state mask cache.
import { LlamaModel } from '../engine/llama/model.js';
import type { ByteAutomaton } from '../grammar/automaton.js';
import { DEAD } from '../grammar/automaton.js';
import { TokenTrie } from '../grammar/token-trie.js';
import { TokenMask } from '../grammar/token-mask.js';
import { MaskCache } from '../grammar/mask-cache.js';
import { acceptsToken } from '../grammar/advance.js';
import { SeededRandom } from '../sampling/random.js';
import { anyUtf8, digits, insideJsonString, openingBrace } from './mask-automata.js';

const AUTOMATA: [string, () => ByteAutomaton][] = [
  ['inside a JSON string', insideJsonString],
  ['digits [0-9]+', digits],
  ['any UTF-8', anyUtf8],
  ['{ or whitespace', openingBrace],
];
const WARM_UP_STEPS = 30;

export interface TrieFacts {
  vocabSize: number;
  nodeCount: number;
  readBytesMs: number;
  buildMs: number;
  buildWithoutByteSetsMs: number;
  memoryBytes: number;
  memoryWithoutByteSetsBytes: number;
  /** Applying a mask to the logits: one allowing nearly every token, one allowing ten. */
  applyMostlyAllowedUs: number;
  applyMostlyRefusedUs: number;
}

export interface MaskRow {
  automaton: string;
  variant: string;
  /** Distinct states in the sequence, and tokens allowed in the first one. */
  states: number;
  allowedAtStart: number;
  avgUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  hitRate?: number;
}

export function benchMask(vocabPath: string, steps: number, reportTrie: (facts: TrieFacts) => void, report: (row: MaskRow) => void): void {
  const started = performance.now();
  const model = LlamaModel.load(vocabPath, { vocabOnly: true });
  const vocabulary = model.vocabulary;
  const tokenBytes = Array.from({ length: vocabulary.vocabSize }, (_, id) => vocabulary.tokenBytes(id));
  model.free();
  const readBytesMs = performance.now() - started;
  const [buildMs, trie] = medianBuild(() => new TokenTrie(tokenBytes));
  const [buildWithoutByteSetsMs, plainTrie] = medianBuild(() => new TokenTrie(tokenBytes, { subtreeByteSets: false }));
  const mask = new TokenMask(trie.vocabSize);
  const applyToLogitsUs = (automaton: ByteAutomaton): number => {
    trie.allowedTokens(automaton, automaton.start, mask);
    // Applying a mask twice writes the same -Infinity entries: the same cost as the first time.
    const logits = new Float32Array(trie.vocabSize).fill(1);
    return summarize(timeSteps(200, () => mask.applyTo(logits))).p50Us;
  };
  reportTrie({
    vocabSize: trie.vocabSize,
    nodeCount: trie.nodeCount,
    readBytesMs,
    buildMs,
    buildWithoutByteSetsMs,
    memoryBytes: trie.memoryBytes,
    memoryWithoutByteSetsBytes: plainTrie.memoryBytes,
    applyMostlyAllowedUs: applyToLogitsUs(insideJsonString()),
    applyMostlyRefusedUs: applyToLogitsUs(digits()),
  });

  for (const [name, make] of AUTOMATA) {
    const automaton = make();
    const sequence = stateSequence(trie, automaton, steps, new SeededRandom(11));
    const facts = { automaton: name, states: new Set(sequence).size, allowedAtStart: trie.allowedTokens(automaton, sequence[0], mask) };
    for (const [variant, walker] of [
      ['walk, no byte sets', plainTrie],
      ['walk', trie],
    ] as const) {
      timeSteps(WARM_UP_STEPS, (i) => walker.allowedTokens(automaton, sequence[i % sequence.length], mask));
      report({ ...facts, variant, ...summarize(timeSteps(sequence.length, (i) => walker.allowedTokens(automaton, sequence[i], mask))) });
    }
    const warmUp = new MaskCache(trie, automaton);
    timeSteps(WARM_UP_STEPS, (i) => warmUp.allowedTokens(sequence[i % sequence.length], mask));
    const cache = new MaskCache(trie, automaton);
    const times = timeSteps(sequence.length, (i) => cache.allowedTokens(sequence[i], mask));
    report({ ...facts, variant: 'walk + state cache', ...summarize(times), hitRate: cache.hits / (cache.hits + cache.misses) });
  }
}

/** `steps` states met decoding with `automaton`: each step takes a uniformly random allowed token; a state allowing none starts over. */
function stateSequence(trie: TokenTrie, automaton: ByteAutomaton, steps: number, random: SeededRandom): number[] {
  const mask = new TokenMask(trie.vocabSize);
  const sequence: number[] = [];
  let state = automaton.start;
  while (sequence.length < steps) {
    sequence.push(state);
    const allowed = trie.allowedTokens(automaton, state, mask);
    if (allowed === 0) {
      state = automaton.start;
      continue;
    }
    let pick = random.nextUint32() % allowed;
    let id = 0;
    for (; ; id++) if (mask.has(id) && pick-- === 0) break;
    state = acceptsToken(automaton, state, trie.tokenBytes(id));
    if (state === DEAD) throw new Error(`token ${id} was allowed but refused`);
  }
  return sequence;
}

function medianBuild(build: () => TokenTrie): [number, TokenTrie] {
  const times: number[] = [];
  let trie: TokenTrie | undefined;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    trie = build();
    times.push(performance.now() - started);
  }
  return [times.sort((a, b) => a - b)[2], trie!];
}

function timeSteps(count: number, step: (i: number) => void): number[] {
  const times = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    step(i);
    times[i] = (performance.now() - started) * 1000;
  }
  return times;
}

function summarize(microseconds: number[]): Pick<MaskRow, 'avgUs' | 'p50Us' | 'p99Us' | 'maxUs'> {
  const sorted = [...microseconds].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { avgUs: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50Us: at(0.5), p99Us: at(0.99), maxUs: sorted[sorted.length - 1] };
}
