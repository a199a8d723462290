// Which bytes lead a state back to itself, and which UTF-8 lead bytes start only characters that
// lead it back to itself: when every byte below a trie node is one of them (and the subtree holds
// whole characters), each token in the subtree stays in that state, so none can die. Learned
// lazily, only for the bytes a subtree needs (one step per byte class), and memoized per
// automaton and state (state numbers keep their meaning for an automaton's life), bounded.
import { DEAD, type ByteAutomaton } from './automaton.js';
import { explorePlainText, NOT_PLAIN, plainRepresentatives } from './plain-text.js';
import { continuationRanges } from './utf8.js';

/** States of one automaton whose bits are kept; past it, that automaton's memo starts over. */
const MAX_STATES_KEPT = 1 << 16;

// Per state: words 0-7 bytes leading back (of those known), 8-15 bytes known; 16-17 lead bytes
// C0-FF whose characters all lead back (of those known), 18-19 lead bytes known.
const LOOPS = 0;
const KNOWN = 8;
const CLOSED = 16;
const KNOWN_LEADS = 18;
const WORDS = 20;

/** States (with their UTF-8 position) explored to prove a state immortal; beyond, it is not. */
const MAX_IMMORTAL_EXPLORATION = 512;

interface AutomatonMemo {
  bits: Map<number, Uint32Array>;
  immortal: Map<number, boolean>;
  representatives?: Uint8Array[];
}

export class SelfLoopBytes {
  private automaton: ByteAutomaton | undefined;
  /** The longest token, in bytes: no walk reads more below a node. */
  private horizon = Infinity;
  private memo = new Map<number, Uint32Array>();
  private immortals = new Map<number, boolean>();
  /** Per automaton: its states' bits, its immortality proofs, and plain-text representative bytes. */
  private readonly byAutomaton = new WeakMap<ByteAutomaton, AutomatonMemo>();
  private current: AutomatonMemo | undefined;
  // A walk asks about the same state many times in a row: the last answers, valid until reset.
  private lastSafeState = -1;
  private lastSafe = false;
  private lastBitsState = -1;
  private lastBits: Uint32Array = new Uint32Array(0);

  /** Makes `automaton` the one whose states the next calls speak of. */
  reset(automaton: ByteAutomaton, horizon: number): void {
    this.horizon = horizon;
    this.lastBitsState = -1;
    this.lastSafeState = -1;
    if (this.automaton === automaton) return;
    this.automaton = automaton;
    let memo = this.byAutomaton.get(automaton);
    if (!memo) this.byAutomaton.set(automaton, (memo = { bits: new Map(), immortal: new Map() }));
    this.current = memo;
    this.memo = memo.bits;
    this.immortals = memo.immortal;
  }

  /**
   * Whether a subtree of valid UTF-8 (`wholeChars`) with no byte JSON escapes can be taken whole
   * from `state`, the state at the start of the character in progress: it can when no plain text
   * at all leads the state to death (inside a string with an unanchored pattern, say).
   */
  plainTextSafe(state: number, set: Uint32Array, summary: number): boolean {
    const at = summary * 8;
    // Only words 0-2 hold bytes that are not plain.
    if ((set[at] | (set[at + 1] & NOT_PLAIN[1]) | (set[at + 2] & NOT_PLAIN[2])) !== 0) return false;
    if (state !== this.lastSafeState) {
      this.lastSafe = this.immortal(state);
      this.lastSafeState = state;
    }
    return this.lastSafe;
  }

  /**
   * Whether no valid UTF-8 plain text read from `state` reaches DEAD (the automaton's own answer
   * where it has one). A proof covers each state it explored.
   */
  private immortal(state: number): boolean {
    const automaton = this.automaton!;
    if (automaton.plainTextSafe) return automaton.plainTextSafe(state, this.horizon);
    const known = this.immortals.get(state);
    if (known !== undefined) return known;
    const representatives = (this.current!.representatives ??= plainRepresentatives(automaton.byteClassOf));
    const explored = explorePlainText(
      (s, b) => automaton.next(s, b),
      representatives,
      state,
      MAX_IMMORTAL_EXPLORATION,
      (s) => this.immortals.get(s),
    );
    if (this.immortals.size > MAX_STATES_KEPT) this.immortals.clear();
    if (explored) for (const s of explored) this.immortals.set(s, true);
    else this.immortals.set(state, false);
    return explored !== undefined;
  }

  /**
   * Whether every token in a subtree whose byte set is `set[summary * 8 ..]` keeps `state`: every
   * ASCII byte of the set leads back to it and, when the subtree holds whole characters, so does
   * every character of each lead byte in the set (continuation bytes follow from those); without
   * whole characters, every byte must lead back to it.
   */
  covers(state: number, set: Uint32Array, summary: number, wholeChars: boolean): boolean {
    const bits = this.bitsOf(state);
    const at = summary * 8;
    if (!wholeChars) return this.loopsOn(state, bits, set, at, 0, 8);
    return (
      this.loopsOn(state, bits, set, at, 0, 4) && this.closedOn(state, bits, set[at + 6], 0) && this.closedOn(state, bits, set[at + 7], 1)
    );
  }

  /**
   * Whether a subtree of valid UTF-8 inside a character that began with `lead` in `state` keeps
   * the walk alive: the character leads back to `state`, and so does every character after it.
   */
  coversFrom(state: number, lead: number, set: Uint32Array, summary: number): boolean {
    const bits = this.bitsOf(state);
    const at = summary * 8;
    const index = lead - 0xc0;
    if (!this.closedOn(state, bits, 1 << (index & 31), index >>> 5)) return false;
    return (
      this.loopsOn(state, bits, set, at, 0, 4) && this.closedOn(state, bits, set[at + 6], 0) && this.closedOn(state, bits, set[at + 7], 1)
    );
  }

  private bitsOf(state: number): Uint32Array {
    if (state === this.lastBitsState) return this.lastBits;
    let bits = this.memo.get(state);
    if (!bits) {
      if (this.memo.size >= MAX_STATES_KEPT) this.memo.clear();
      bits = new Uint32Array(WORDS);
      this.memo.set(state, bits);
    }
    this.lastBitsState = state;
    this.lastBits = bits;
    return bits;
  }

  /** Whether every byte of words [from, to) of the set leads `state` back, learning unknown ones. */
  private loopsOn(state: number, bits: Uint32Array, set: Uint32Array, at: number, from: number, to: number): boolean {
    for (let w = from; w < to; w++) {
      const needed = set[at + w];
      if ((needed & bits[KNOWN + w] & ~bits[LOOPS + w]) !== 0) return false;
      let unknown = needed & ~bits[KNOWN + w];
      while (unknown !== 0) {
        const lowest = unknown & -unknown;
        const byte = w * 32 + 31 - Math.clz32(lowest);
        this.learnByte(state, bits, byte);
        if ((bits[LOOPS + w] & lowest) === 0) return false;
        unknown &= ~bits[KNOWN + w];
      }
    }
    return true;
  }

  /** Learns whether `byte` leads `state` back, for every byte of its class at once. */
  private learnByte(state: number, bits: Uint32Array, byte: number): void {
    const automaton = this.automaton!;
    const loops = automaton.next(state, byte) === state;
    const classOf = automaton.byteClassOf;
    if (!classOf) {
      bits[KNOWN + (byte >>> 5)] |= 1 << (byte & 31);
      if (loops) bits[LOOPS + (byte >>> 5)] |= 1 << (byte & 31);
      return;
    }
    const wanted = classOf[byte];
    for (let b = 0; b < 256; b++) {
      if (classOf[b] !== wanted) continue;
      bits[KNOWN + (b >>> 5)] |= 1 << (b & 31);
      if (loops) bits[LOOPS + (b >>> 5)] |= 1 << (b & 31);
    }
  }

  /** Whether every lead byte in `word` (of lead bytes C0-FF, word 0 or 1) is closed for `state`. */
  private closedOn(state: number, bits: Uint32Array, word: number, w: number): boolean {
    if ((word & bits[KNOWN_LEADS + w] & ~bits[CLOSED + w]) !== 0) return false;
    let unknown = word & ~bits[KNOWN_LEADS + w];
    while (unknown !== 0) {
      const lowest = unknown & -unknown;
      const lead = 0xc0 + w * 32 + 31 - Math.clz32(lowest);
      bits[KNOWN_LEADS + w] |= lowest;
      if (!this.closedCharacters(state, lead)) return false;
      bits[CLOSED + w] |= lowest;
      unknown ^= lowest;
    }
    return true;
  }

  /** Whether every valid character starting with `lead` leads `state` back to itself. */
  private closedCharacters(state: number, lead: number): boolean {
    const automaton = this.automaton!;
    const ranges = continuationRanges(lead);
    if (ranges.length === 0) return false;
    let frontier = [automaton.next(state, lead)];
    if (frontier[0] === DEAD) return false;
    const classOf = automaton.byteClassOf;
    for (const [lo, hi] of ranges) {
      // One byte of each class in the range stands for the others.
      const bytes: number[] = [];
      const seen = new Set<number>();
      for (let byte = lo; byte <= hi; byte++) {
        const key = classOf ? classOf[byte] : byte;
        if (!seen.has(key)) {
          seen.add(key);
          bytes.push(byte);
        }
      }
      const reached = new Set<number>();
      for (const from of frontier) {
        for (const byte of bytes) {
          const to = automaton.next(from, byte);
          if (to === DEAD) return false;
          reached.add(to);
        }
      }
      frontier = [...reached];
    }
    return frontier.length === 1 && frontier[0] === state;
  }
}
