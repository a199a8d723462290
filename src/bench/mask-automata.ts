// Hand-written DFAs over bytes for the mask benchmark, standing in for the lexer states a JSON
// grammar visits. One class for all, as the real lazy DFA will be, so the walk's call is monomorphic.
import { DEAD, type ByteAutomaton } from '../grammar/automaton.js';

class TableDfa implements ByteAutomaton {
  readonly start = 0;
  private table = new Int32Array(0);
  private accepts: boolean[] = [];

  get stateCount(): number {
    return this.accepts.length;
  }

  addState(accepting = false): number {
    const state = this.accepts.length;
    this.accepts.push(accepting);
    const grown = new Int32Array((state + 1) * 256).fill(DEAD);
    grown.set(this.table);
    this.table = grown;
    return state;
  }

  /** Adds the transitions `from` --b--> `to` for every byte b in [low, high]. */
  on(from: number, low: number, high: number, to: number): this {
    this.table.fill(to, from * 256 + low, from * 256 + high + 1);
    return this;
  }

  onBytes(from: number, bytes: string, to: number): this {
    for (const byte of Buffer.from(bytes, 'latin1')) this.on(from, byte, byte, to);
    return this;
  }

  next(state: number, byte: number): number {
    return this.table[state * 256 + byte];
  }

  accepting(state: number): boolean {
    return this.accepts[state];
  }
}

/** Multi-byte UTF-8 sequences (no overlongs, no surrogates, up to U+10FFFF) from `from`, ending in `back`. */
function addUtf8Sequences(dfa: TableDfa, from: number, back: number): void {
  const need1 = dfa.addState();
  const need2 = dfa.addState();
  const need3 = dfa.addState();
  const afterE0 = dfa.addState();
  const afterED = dfa.addState();
  const afterF0 = dfa.addState();
  const afterF4 = dfa.addState();
  dfa.on(from, 0xc2, 0xdf, need1).on(from, 0xe0, 0xe0, afterE0).on(from, 0xe1, 0xec, need2).on(from, 0xed, 0xed, afterED);
  dfa.on(from, 0xee, 0xef, need2).on(from, 0xf0, 0xf0, afterF0).on(from, 0xf1, 0xf3, need3).on(from, 0xf4, 0xf4, afterF4);
  dfa.on(need1, 0x80, 0xbf, back).on(need2, 0x80, 0xbf, need1).on(need3, 0x80, 0xbf, need2);
  dfa.on(afterE0, 0xa0, 0xbf, need1).on(afterED, 0x80, 0x9f, need1).on(afterF0, 0x90, 0xbf, need2).on(afterF4, 0x80, 0x8f, need2);
}

/** Any valid UTF-8. */
export function anyUtf8(): TableDfa {
  const dfa = new TableDfa();
  const boundary = dfa.addState(true);
  dfa.on(boundary, 0x00, 0x7f, boundary);
  addUtf8Sequences(dfa, boundary, boundary);
  return dfa;
}

/** Inside a JSON string, after the opening quote: characters, escapes, then the closing quote ends it. */
export function insideJsonString(): TableDfa {
  const dfa = new TableDfa();
  const inside = dfa.addState();
  const escape = dfa.addState();
  const closed = dfa.addState(true);
  dfa.on(inside, 0x20, 0x7f, inside).onBytes(inside, '"', closed).onBytes(inside, '\\', escape);
  addUtf8Sequences(dfa, inside, inside);
  dfa.onBytes(escape, '"\\/bfnrt', inside);
  let hex = dfa.addState();
  dfa.onBytes(escape, 'u', hex);
  for (let digit = 1; digit <= 4; digit++) {
    const after = digit === 4 ? inside : dfa.addState();
    dfa.on(hex, 0x30, 0x39, after).on(hex, 0x41, 0x46, after).on(hex, 0x61, 0x66, after);
    hex = after;
  }
  return dfa;
}

/** `[0-9]+` */
export function digits(): TableDfa {
  const dfa = new TableDfa();
  const first = dfa.addState();
  const more = dfa.addState(true);
  dfa.on(first, 0x30, 0x39, more).on(more, 0x30, 0x39, more);
  return dfa;
}

/** `[ \t\n\r]*\{`: the start of a JSON object. */
export function openingBrace(): TableDfa {
  const dfa = new TableDfa();
  const space = dfa.addState();
  const done = dfa.addState(true);
  dfa.onBytes(space, ' \t\n\r', space).onBytes(space, '{', done);
  return dfa;
}
