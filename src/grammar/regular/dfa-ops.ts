// Operations on regular languages as explicit DFAs: a grammar node (without rule calls) made
// deterministic, products (intersection, difference, union), trimming and minimizing. Every result
// is trimmed: each state can still reach an accepting one, so embedding it leaves no dead end. All
// are bounded by a state budget: past it they throw RegularError, and the caller refuses the
// constraint that needed them.
import type { GrammarNode } from '../cfg/nodes.js';
import { dfaNext, type ExplicitDfa } from '../regex/explicit-dfa.js';
import { RegexAutomaton } from '../regex/dfa.js';
import { buildNfa } from '../regex/nfa.js';
import { DEAD } from '../automaton.js';

export class RegularError extends Error {
  override name = 'RegularError';
}

export const DEFAULT_MAX_STATES = 4096;

export const EMPTY_LANGUAGE: ExplicitDfa = Object.freeze({
  stateCount: 0,
  start: -1,
  accepting: new Uint8Array(0),
  classOf: new Uint8Array(256),
  classCount: 1,
  next: new Int32Array(0),
});

/** The DFA of a call-free node, built eagerly (lazy states explored to the end). */
export function determinize(node: GrammarNode, maxStates = DEFAULT_MAX_STATES): ExplicitDfa {
  const automaton = RegexAutomaton.fromNfa(buildNfa(node));
  if (automaton.start === DEAD) return EMPTY_LANGUAGE;
  const { classOf, representative, count } = automaton.byteClasses;
  const ids = new Map<number, number>();
  const order: number[] = [];
  const visit = (state: number): number => {
    let id = ids.get(state);
    if (id === undefined) {
      if (order.length >= maxStates) throw new RegularError(`the language needs more than ${maxStates} automaton states`);
      id = order.length;
      ids.set(state, id);
      order.push(state);
    }
    return id;
  };
  visit(automaton.start);
  const next: number[] = [];
  for (let i = 0; i < order.length; i++) {
    for (let c = 0; c < count; c++) {
      const target = automaton.next(order[i], representative[c]);
      next.push(target === DEAD ? -1 : visit(target));
    }
  }
  const accepting = Uint8Array.from(order, (state) => (automaton.accepting(state) ? 1 : 0));
  return trim({ stateCount: order.length, start: 0, accepting, classOf: Uint8Array.from(classOf), classCount: count, next: Int32Array.from(next) });
}

export type ProductMode = 'and' | 'or' | 'and-not';

/** The product of two DFAs: both accept (and), either (or), or the first but not the second (and-not). */
export function product(a: ExplicitDfa, b: ExplicitDfa, mode: ProductMode, maxStates = DEFAULT_MAX_STATES): ExplicitDfa {
  const accepts = (sa: number, sb: number): boolean => {
    const inA = sa >= 0 && a.accepting[sa] === 1;
    const inB = sb >= 0 && b.accepting[sb] === 1;
    return mode === 'and' ? inA && inB : mode === 'or' ? inA || inB : inA && !inB;
  };
  // A pair is dead when no continuation can make it accept (both DFAs are trimmed).
  const dead = (sa: number, sb: number): boolean => (mode === 'or' ? sa < 0 && sb < 0 : sa < 0 || (mode === 'and' && sb < 0));
  if (dead(a.start, b.start)) return EMPTY_LANGUAGE;
  const { classOf, classCount, representatives } = jointClasses(a, b);
  const ids = new Map<number, number>();
  const pairs: number[] = [];
  const visit = (sa: number, sb: number): number => {
    const k = (sa + 1) * (b.stateCount + 1) + (sb + 1);
    let id = ids.get(k);
    if (id === undefined) {
      if (pairs.length / 2 >= maxStates) throw new RegularError(`the language needs more than ${maxStates} automaton states`);
      id = pairs.length / 2;
      ids.set(k, id);
      pairs.push(sa, sb);
    }
    return id;
  };
  visit(a.start, b.start);
  const next: number[] = [];
  for (let i = 0; i < pairs.length / 2; i++) {
    const sa = pairs[2 * i];
    const sb = pairs[2 * i + 1];
    for (let c = 0; c < classCount; c++) {
      const byte = representatives[c];
      const ta = sa < 0 ? -1 : dfaNext(a, sa, byte);
      const tb = sb < 0 ? -1 : dfaNext(b, sb, byte);
      next.push(dead(ta, tb) ? -1 : visit(ta, tb));
    }
  }
  const count = pairs.length / 2;
  const accepting = new Uint8Array(count);
  for (let i = 0; i < count; i++) accepting[i] = accepts(pairs[2 * i], pairs[2 * i + 1]) ? 1 : 0;
  return trim({ stateCount: count, start: 0, accepting, classOf, classCount, next: Int32Array.from(next) });
}

/** The classes of bytes that both DFAs treat alike. */
function jointClasses(a: ExplicitDfa, b: ExplicitDfa): { classOf: Uint8Array; classCount: number; representatives: number[] } {
  const classOf = new Uint8Array(256);
  const ids = new Map<number, number>();
  const representatives: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    const key = a.classOf[byte] * 256 + b.classOf[byte];
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
      representatives.push(byte);
    }
    classOf[byte] = id;
  }
  return { classOf, classCount: ids.size, representatives };
}

/** Only the states from which an accepting state can be reached, renumbered; -1 start if none. */
export function trim(dfa: ExplicitDfa): ExplicitDfa {
  const { stateCount, next, accepting, classCount } = dfa;
  if (dfa.start < 0) return EMPTY_LANGUAGE;
  const incoming: number[][] = Array.from({ length: stateCount }, () => []);
  for (let s = 0; s < stateCount; s++) {
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      if (t >= 0) incoming[t].push(s);
    }
  }
  const live = new Uint8Array(stateCount);
  const stack: number[] = [];
  for (let s = 0; s < stateCount; s++) if (accepting[s] === 1) (live[s] = 1), stack.push(s);
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const s of incoming[t]) if (live[s] === 0) (live[s] = 1), stack.push(s);
  }
  if (live[dfa.start] === 0) return EMPTY_LANGUAGE;
  const id = new Int32Array(stateCount).fill(-1);
  const order = [dfa.start];
  id[dfa.start] = 0;
  for (let i = 0; i < order.length; i++) {
    const s = order[i];
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      if (t >= 0 && live[t] === 1 && id[t] < 0) {
        id[t] = order.length;
        order.push(t);
      }
    }
  }
  const trimmed = new Int32Array(order.length * classCount);
  order.forEach((s, i) => {
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      trimmed[i * classCount + c] = t >= 0 && live[t] === 1 ? id[t] : -1;
    }
  });
  return { stateCount: order.length, start: 0, accepting: Uint8Array.from(order, (s) => accepting[s]), classOf: dfa.classOf, classCount, next: trimmed };
}

/** The minimal DFA of the same language (Moore's partition refinement). */
export function minimize(dfa: ExplicitDfa): ExplicitDfa {
  const n = dfa.stateCount;
  if (dfa.start < 0 || n <= 1) return dfa;
  const width = dfa.classCount;
  let part = Int32Array.from(dfa.accepting);
  let parts = new Set(part).size;
  const signature: number[] = new Array(width + 1);
  for (;;) {
    const ids = new Map<string, number>();
    const refined = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      signature[0] = part[s];
      for (let c = 0; c < width; c++) {
        const t = dfa.next[s * width + c];
        signature[c + 1] = t < 0 ? -1 : part[t];
      }
      const key = signature.join(',');
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      refined[s] = id;
    }
    part = refined;
    if (ids.size === parts) break;
    parts = ids.size;
  }
  const next = new Int32Array(parts * width).fill(-1);
  const accepting = new Uint8Array(parts);
  for (let s = 0; s < n; s++) {
    const p = part[s];
    accepting[p] = dfa.accepting[s];
    for (let c = 0; c < width; c++) {
      const t = dfa.next[s * width + c];
      next[p * width + c] = t < 0 ? -1 : part[t];
    }
  }
  return trim({ stateCount: parts, start: part[dfa.start], accepting, classOf: dfa.classOf, classCount: width, next });
}

export function isEmpty(dfa: ExplicitDfa): boolean {
  return dfa.start < 0;
}

/** Whether the DFA accepts `bytes` whole. */
export function accepts(dfa: ExplicitDfa, bytes: ArrayLike<number>): boolean {
  let state = dfa.start;
  for (let i = 0; i < bytes.length && state >= 0; i++) state = dfaNext(dfa, state, bytes[i]);
  return state >= 0 && dfa.accepting[state] === 1;
}

export function dfaNode(dfa: ExplicitDfa): GrammarNode {
  return { type: 'dfa', dfa };
}
