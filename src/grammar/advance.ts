// Stepping an automaton over one token or several: the cheap path that checks a sampled token
// before any full mask is computed, and the way a state follows the tokens actually chosen.
import { DEAD, type ByteAutomaton } from './automaton.js';
import type { TokenTrie } from './token-trie.js';

/** The state after reading `bytes` from `state`, or DEAD. Empty bytes (a token the grammar never allows) give DEAD. */
export function acceptsToken(automaton: ByteAutomaton, state: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return DEAD;
  for (let k = 0; k < bytes.length && state !== DEAD; k++) state = automaton.next(state, bytes[k]);
  return state;
}

/** The state after the tokens `ids` of `trie`'s vocabulary, or DEAD as soon as one is refused. */
export function advanceTokens(automaton: ByteAutomaton, state: number, trie: TokenTrie, ids: Iterable<number>): number {
  for (const id of ids) {
    if (state === DEAD) break;
    state = acceptsToken(automaton, state, trie.tokenBytes(id));
  }
  return state;
}
