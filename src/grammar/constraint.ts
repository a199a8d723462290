// A sequence's constraint: which tokens may come next under its grammar, and the state that
// follows each chosen token. End-of-generation tokens are allowed exactly where the text so far
// is a complete match, so a constrained generation that ends by EOS always matches.
import { DEAD, type ByteAutomaton } from './automaton.js';
import { acceptsToken } from './advance.js';
import { MaskCache } from './mask-cache.js';
import { TokenMask } from './token-mask.js';
import type { TokenTrie } from './token-trie.js';

/** A compiled grammar over one vocabulary, shared by every sequence that uses it. */
export class CompiledConstraint {
  readonly masks: MaskCache;

  constructor(
    readonly automaton: ByteAutomaton,
    readonly trie: TokenTrie,
    /** The vocabulary's end-of-generation tokens. */
    readonly endTokens: readonly number[],
    /** Special tokens the grammar may produce (a tool call's markers), with the text they stand for. */
    readonly atoms: ReadonlyMap<number, Uint8Array> = new Map(),
  ) {
    this.masks = new MaskCache(trie, automaton);
  }

  start(): ConstraintState {
    return new ConstraintState(this);
  }

  tokenBytes(id: number): Uint8Array {
    return this.atoms.get(id) ?? this.trie.tokenBytes(id);
  }
}

export class ConstraintState {
  private state: number;
  private readonly mask: TokenMask;

  constructor(private readonly compiled: CompiledConstraint) {
    this.state = compiled.automaton.start;
    this.mask = new TokenMask(compiled.trie.vocabSize);
  }

  /** Whether the text so far is a complete match (generation may end here). */
  get complete(): boolean {
    return this.state !== DEAD && this.compiled.automaton.accepting(this.state);
  }

  /** The tokens allowed next; with none at all (a vocabulary that cannot go on), the end tokens. */
  allowed(): TokenMask {
    const { masks, endTokens } = this.compiled;
    let count = 0;
    if (this.state === DEAD) this.mask.clear();
    else {
      count = masks.allowedTokens(this.state, this.mask);
      for (const [id, bytes] of this.compiled.atoms) {
        if (acceptsToken(this.compiled.automaton, this.state, bytes) !== DEAD) {
          this.mask.set(id);
          count++;
        }
      }
    }
    if (count === 0 || this.complete) for (const id of endTokens) this.mask.set(id);
    return this.mask;
  }

  /** Whether `id` may come next, without computing the whole mask: the cheap check of a drawn token. */
  permits(id: number): boolean {
    if (this.state === DEAD) return false;
    if (this.compiled.endTokens.includes(id)) return this.complete;
    return acceptsToken(this.compiled.automaton, this.state, this.compiled.tokenBytes(id)) !== DEAD;
  }

  /** Follows a chosen token (an end token leaves the state as it is). */
  accept(id: number): void {
    if (this.compiled.endTokens.includes(id)) return;
    this.state = acceptsToken(this.compiled.automaton, this.state, this.compiled.tokenBytes(id));
  }
}
