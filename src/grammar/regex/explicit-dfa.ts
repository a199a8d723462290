// A DFA with every state and transition written out: what the operations of ../regular (products,
// complements) produce, and what a grammar can embed as a node. Bytes that every state treats
// alike share a class, so the table has one column per class.

export interface ExplicitDfa {
  readonly stateCount: number;
  /** The start state, or -1 for the empty language. */
  readonly start: number;
  /** 1 where the state accepts. */
  readonly accepting: Uint8Array;
  /** The class of each byte. */
  readonly classOf: Uint8Array;
  readonly classCount: number;
  /** `next[s * classCount + classOf[byte]]`: the state after `byte`, or -1. */
  readonly next: Int32Array;
}

/** The state after `byte` in `state`, or -1. */
export function dfaNext(dfa: ExplicitDfa, state: number, byte: number): number {
  return dfa.next[state * dfa.classCount + dfa.classOf[byte]];
}
