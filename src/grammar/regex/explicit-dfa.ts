// A DFA with every state and transition written out: what the operations of ../regular (products,
// complements) produce, and what a grammar can embed as a node. Small by construction (their
// builders bound the state count), so a dense table of 256 columns a state is fine.

export interface ExplicitDfa {
  readonly stateCount: number;
  /** The start state, or -1 for the empty language. */
  readonly start: number;
  /** 1 where the state accepts. */
  readonly accepting: Uint8Array;
  /** `next[s * 256 + byte]`: the state after `byte`, or -1. */
  readonly next: Int32Array;
}
