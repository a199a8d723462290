// One serialized instance walked through the engine token by token, as constrained decoding would
// meet it: each token must be in the full mask of allowed tokens, and the end must be a match.
import { DEAD, type ByteAutomaton } from '../grammar/automaton.js';
import { acceptsToken } from '../grammar/advance.js';
import type { MaskCache } from '../grammar/mask-cache.js';
import type { TokenMask } from '../grammar/token-mask.js';
import type { TokenTrie } from '../grammar/token-trie.js';
import type { Samples } from './samples.js';

export interface WalkOptions {
  /** Full masks are computed (and timed) for the first this many tokens; the rest are only stepped. */
  maskedTokens: number;
  mask: TokenMask;
  maskMicros: Samples;
}

export interface WalkResult {
  accepted: boolean;
  /** The index of the refused token, or the token count when the text ended short of a match. */
  refusedAt: number;
  /** A token whose mask bit disagreed with stepping the automaton over its bytes. */
  maskMismatchAt?: number;
}

/**
 * `masks`: where full masks come from. The engine's per-grammar cache of recent states' masks
 * (what a decoding step pays), or, without it, a fresh trie walk each time.
 */
export function walkTokens(
  automaton: ByteAutomaton,
  trie: TokenTrie,
  ids: readonly number[],
  options: WalkOptions,
  masks?: MaskCache,
): WalkResult {
  let state = automaton.start;
  let maskMismatchAt: number | undefined;
  for (let i = 0; i < ids.length; i++) {
    const next = acceptsToken(automaton, state, trie.tokenBytes(ids[i]));
    if (i < options.maskedTokens) {
      const started = performance.now();
      if (masks) masks.allowedTokens(state, options.mask);
      else trie.allowedTokens(automaton, state, options.mask);
      options.maskMicros.add((performance.now() - started) * 1000);
      if (options.mask.has(ids[i]) !== (next !== DEAD)) maskMismatchAt ??= i;
    }
    if (next === DEAD) return { accepted: false, refusedAt: i, maskMismatchAt };
    state = next;
  }
  const accepted = automaton.accepting(state);
  return { accepted, refusedAt: accepted ? -1 : ids.length, maskMismatchAt };
}
