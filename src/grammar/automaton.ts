// The seam of the constraint engine: a deterministic automaton over bytes. Regular expressions
// compile to one; the token trie walks one to find which tokens may come next. `grammar/` knows
// nothing of HTTP or llama.cpp: a vocabulary reaches it as the bytes of each token.

/** The state of no continuation: every byte from here is refused. */
export const DEAD = -1;

export interface ByteAutomaton {
  /** The state before any byte. */
  readonly start: number;
  /** The state after reading `byte` (0-255) in `state`, or DEAD. May build states on demand. */
  next(state: number, byte: number): number;
  /** Whether the bytes read so far form a complete match. */
  accepting(state: number): boolean;
}
