// The masks of recently seen states of one automaton, least recently used first out. A JSON lexer
// keeps coming back to a few states ("inside a string"), whose walk costs far more than a copy.
// State numbers must keep their meaning for the automaton's lifetime (a lazy DFA may add states,
// never renumber them): keep one cache per automaton and trie, e.g. beside the compiled grammar.
import type { ByteAutomaton } from './automaton.js';
import { TokenMask } from './token-mask.js';
import type { TokenTrie } from './token-trie.js';

interface Entry {
  mask: TokenMask;
  allowed: number;
}

export class MaskCache {
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<number, Entry>();
  hits = 0;
  misses = 0;

  constructor(
    readonly trie: TokenTrie,
    readonly automaton: ByteAutomaton,
    /** At most this many masks are kept, each of ceil(vocabSize / 32) 32-bit words. */
    readonly capacity = 64,
  ) {
    if (!(capacity >= 1)) throw new Error(`a mask cache holds at least one mask, not ${capacity}`);
  }

  /**
   * As `TokenTrie.allowedTokens`, from the cache when `state`, or a state the automaton says has
   * the same mask (see ByteAutomaton.maskClass), was seen recently.
   */
  allowedTokens(state: number, mask: TokenMask): number {
    if (this.automaton.maskClass) state = this.automaton.maskClass(state, this.trie.maxDepth);
    const cached = this.entries.get(state);
    if (cached) {
      this.hits++;
      this.entries.delete(state);
      this.entries.set(state, cached);
      mask.copyFrom(cached.mask);
      return cached.allowed;
    }
    this.misses++;
    const allowed = this.trie.allowedTokens(this.automaton, state, mask);
    let entry: Entry;
    if (this.entries.size >= this.capacity) {
      const [oldest, reused] = this.entries.entries().next().value as [number, Entry];
      this.entries.delete(oldest);
      entry = reused;
    } else {
      entry = { mask: new TokenMask(this.trie.vocabSize), allowed: 0 };
    }
    entry.mask.copyFrom(mask);
    entry.allowed = allowed;
    this.entries.set(state, entry);
    return allowed;
  }

  get size(): number {
    return this.entries.size;
  }
}
