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
  /**
   * Optional: a class per byte such that bytes of one class lead every state alike. Lets callers
   * step once per class instead of once per byte.
   */
  readonly byteClassOf?: Uint8Array;
  /**
   * Optional: whether no plain text (valid UTF-8 without a byte JSON escapes) of at most `horizon`
   * bytes leads `state` to DEAD, when the automaton can tell more cheaply than by exploring its own
   * states.
   */
  plainTextSafe?(state: number, horizon: number): boolean;
  /**
   * Optional: a state that allows exactly the same byte strings of at most `horizon` bytes as
   * `state` (so the same tokens of a vocabulary whose tokens are that long at most): token masks of
   * the two are equal and may be computed and cached once. Inside a string counted up to 255
   * characters, say, every count far from the bounds has the same mask.
   */
  maskClass?(state: number, horizon: number): number;
}
