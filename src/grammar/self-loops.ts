// Which bytes lead a state back to itself, memoized over one trie walk: when every byte below a
// trie node is one of them, each token in the subtree stays in that state, so none can die.
import type { ByteAutomaton } from './automaton.js';

/** States up to this are looked up in an array; larger ones (rare: lazy DFAs number densely) in a map. */
const DIRECT_STATES = 1 << 16;

export class SelfLoopBytes {
  /** 8 words (256 bits) per memoized state. */
  private bits: Uint32Array = new Uint32Array(8 * 8);
  private used = 0;
  /** The walk a state's entry belongs to, so that a new walk forgets the old ones without clearing. */
  private walkOf: Uint32Array = new Uint32Array(64);
  private offsetOf: Uint32Array = new Uint32Array(64);
  private readonly largeStates = new Map<number, number>();
  private walk = 1;

  /** Forgets the memo: state numbers are only trusted within one walk. */
  reset(): void {
    this.walk++;
    this.used = 0;
    this.largeStates.clear();
  }

  /** Whether every byte of the 256-bit set at `set[at .. at + 8)` leads from `state` back to `state`. */
  covers(automaton: ByteAutomaton, state: number, set: Uint32Array, at: number): boolean {
    const offset = this.offset(automaton, state);
    const bits = this.bits;
    for (let w = 0; w < 8; w++) if ((set[at + w] & ~bits[offset + w]) !== 0) return false;
    return true;
  }

  private offset(automaton: ByteAutomaton, state: number): number {
    if (state >= DIRECT_STATES) return this.largeStates.get(state) ?? this.compute(automaton, state);
    if (state < this.walkOf.length && this.walkOf[state] === this.walk) return this.offsetOf[state];
    return this.compute(automaton, state);
  }

  private compute(automaton: ByteAutomaton, state: number): number {
    if (this.used + 8 > this.bits.length) this.bits = grown(this.bits, this.bits.length * 2);
    const offset = this.used;
    this.used += 8;
    this.bits.fill(0, offset, offset + 8);
    for (let byte = 0; byte < 256; byte++) {
      if (automaton.next(state, byte) === state) this.bits[offset + (byte >>> 5)] |= 1 << (byte & 31);
    }
    if (state >= DIRECT_STATES) {
      this.largeStates.set(state, offset);
    } else {
      if (state >= this.walkOf.length) {
        const length = Math.max(this.walkOf.length * 2, state + 1);
        this.walkOf = grown(this.walkOf, length);
        this.offsetOf = grown(this.offsetOf, length);
      }
      this.walkOf[state] = this.walk;
      this.offsetOf[state] = offset;
    }
    return offset;
  }
}

function grown(array: Uint32Array, length: number): Uint32Array {
  const larger = new Uint32Array(length);
  larger.set(array);
  return larger;
}
