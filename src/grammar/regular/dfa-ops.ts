// Operations on regular languages as explicit DFAs: a grammar node (without rule calls) made
// deterministic, products (intersection, difference, union), and trimming. Every result is
// trimmed: each state can still reach an accepting one, so embedding it leaves no dead end. All
// are bounded by a state budget: past it they throw RegularError, and the caller refuses the
// constraint that needed them.
import type { GrammarNode } from '../cfg/nodes.js';
import type { ExplicitDfa } from '../regex/explicit-dfa.js';
import { RegexAutomaton } from '../regex/dfa.js';
import { buildNfa } from '../regex/nfa.js';
import { DEAD } from '../automaton.js';

export class RegularError extends Error {
  override name = 'RegularError';
}

export const DEFAULT_MAX_STATES = 4096;

export const EMPTY_LANGUAGE: ExplicitDfa = Object.freeze({ stateCount: 0, start: -1, accepting: new Uint8Array(0), next: new Int32Array(0) });

/** The DFA of a call-free node, built eagerly (lazy states explored to the end). */
export function determinize(node: GrammarNode, maxStates = DEFAULT_MAX_STATES): ExplicitDfa {
  const automaton = RegexAutomaton.fromNfa(buildNfa(node));
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
  if (automaton.start === DEAD) return EMPTY_LANGUAGE;
  visit(automaton.start);
  const rows: Int32Array[] = [];
  for (let i = 0; i < order.length; i++) {
    const byClass = new Int32Array(count);
    for (let c = 0; c < count; c++) {
      const target = automaton.next(order[i], representative[c]);
      byClass[c] = target === DEAD ? -1 : visit(target);
    }
    rows.push(byClass);
  }
  const next = new Int32Array(order.length * 256);
  rows.forEach((byClass, s) => {
    for (let byte = 0; byte < 256; byte++) next[s * 256 + byte] = byClass[classOf[byte]];
  });
  const accepting = Uint8Array.from(order, (state) => (automaton.accepting(state) ? 1 : 0));
  return trim({ stateCount: order.length, start: 0, accepting, next });
}

export type ProductMode = 'and' | 'or' | 'and-not';

/** The product of two DFAs: both accept (and), either (or), or the first but not the second (and-not). */
export function product(a: ExplicitDfa, b: ExplicitDfa, mode: ProductMode, maxStates = DEFAULT_MAX_STATES): ExplicitDfa {
  const accepts = (sa: number, sb: number): boolean => {
    const inA = sa >= 0 && a.accepting[sa] === 1;
    const inB = sb >= 0 && b.accepting[sb] === 1;
    return mode === 'and' ? inA && inB : mode === 'or' ? inA || inB : inA && !inB;
  };
  // A pair is dead when no continuation can make it accept: for `and` and `and-not`, once the first is dead.
  const dead = (sa: number, sb: number): boolean => (mode === 'or' ? sa < 0 && sb < 0 : sa < 0 || (mode === 'and' && sb < 0));
  if (dead(a.start, b.start)) return EMPTY_LANGUAGE;
  const ids = new Map<number, number>();
  const pairs: number[] = [];
  const key = (sa: number, sb: number) => (sa + 1) * (b.stateCount + 1) + (sb + 1);
  const visit = (sa: number, sb: number): number => {
    const k = key(sa, sb);
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
  const rows: number[] = [];
  for (let i = 0; i < pairs.length / 2; i++) {
    const sa = pairs[2 * i];
    const sb = pairs[2 * i + 1];
    for (let byte = 0; byte < 256; byte++) {
      const ta = sa < 0 ? -1 : a.next[sa * 256 + byte];
      const tb = sb < 0 ? -1 : b.next[sb * 256 + byte];
      rows.push(dead(ta, tb) ? -1 : visit(ta, tb));
    }
  }
  const count = pairs.length / 2;
  const accepting = new Uint8Array(count);
  for (let i = 0; i < count; i++) accepting[i] = accepts(pairs[2 * i], pairs[2 * i + 1]) ? 1 : 0;
  return trim({ stateCount: count, start: 0, accepting, next: Int32Array.from(rows) });
}

/** Only the states from which an accepting state can be reached, renumbered; -1 start if none. */
export function trim(dfa: ExplicitDfa): ExplicitDfa {
  const { stateCount, next, accepting } = dfa;
  if (dfa.start < 0) return EMPTY_LANGUAGE;
  // Reverse edges, then a search back from the accepting states.
  const incoming: number[][] = Array.from({ length: stateCount }, () => []);
  for (let s = 0; s < stateCount; s++) {
    for (let byte = 0; byte < 256; byte++) {
      const t = next[s * 256 + byte];
      if (t >= 0 && (byte === 0 || next[s * 256 + byte - 1] !== t)) incoming[t].push(s);
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
  // Keep the live states reachable from the start, in order of discovery.
  const id = new Int32Array(stateCount).fill(-1);
  const order = [dfa.start];
  id[dfa.start] = 0;
  for (let i = 0; i < order.length; i++) {
    const s = order[i];
    for (let byte = 0; byte < 256; byte++) {
      const t = next[s * 256 + byte];
      if (t >= 0 && live[t] === 1 && id[t] < 0) {
        id[t] = order.length;
        order.push(t);
      }
    }
  }
  const trimmed = new Int32Array(order.length * 256);
  order.forEach((s, i) => {
    for (let byte = 0; byte < 256; byte++) {
      const t = next[s * 256 + byte];
      trimmed[i * 256 + byte] = t >= 0 && live[t] === 1 ? id[t] : -1;
    }
  });
  return { stateCount: order.length, start: 0, accepting: Uint8Array.from(order, (s) => accepting[s]), next: trimmed };
}

export function isEmpty(dfa: ExplicitDfa): boolean {
  return dfa.start < 0;
}

/** Whether the DFA accepts `bytes` whole. */
export function accepts(dfa: ExplicitDfa, bytes: ArrayLike<number>): boolean {
  let state = dfa.start;
  for (let i = 0; i < bytes.length && state >= 0; i++) state = dfa.next[state * 256 + bytes[i]];
  return state >= 0 && dfa.accepting[state] === 1;
}

export function dfaNode(dfa: ExplicitDfa): GrammarNode {
  return { type: 'dfa', dfa };
}

/** The minimal DFA of the same language (Moore's partition refinement over byte classes). */
export function minimize(dfa: ExplicitDfa): ExplicitDfa {
  const n = dfa.stateCount;
  if (dfa.start < 0 || n <= 1) return dfa;
  const { classOf, representatives } = byteClassesOf(dfa);
  const width = representatives.length;
  let part = Int32Array.from(dfa.accepting);
  let parts = new Set(part).size;
  for (;;) {
    const ids = new Map<string, number>();
    const refined = new Int32Array(n);
    const signature: number[] = new Array(width + 1);
    for (let s = 0; s < n; s++) {
      signature[0] = part[s];
      for (let c = 0; c < width; c++) {
        const t = dfa.next[s * 256 + representatives[c]];
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
  const next = new Int32Array(parts * 256).fill(-1);
  const accepting = new Uint8Array(parts);
  for (let s = 0; s < n; s++) {
    const p = part[s];
    accepting[p] = dfa.accepting[s];
    for (let byte = 0; byte < 256; byte++) {
      const t = dfa.next[s * 256 + byte];
      next[p * 256 + byte] = t < 0 ? -1 : part[t];
    }
  }
  void classOf;
  return trim({ stateCount: parts, start: part[dfa.start], accepting, next });
}

/** Bytes that every state sends to the same place form one class. */
function byteClassesOf(dfa: ExplicitDfa): { classOf: Uint8Array; representatives: number[] } {
  let classOf = new Uint8Array(256);
  let count = 1;
  for (let s = 0; s < dfa.stateCount; s++) {
    const ids = new Map<number, number>();
    const refined = new Uint8Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const key = classOf[byte] * (dfa.stateCount + 1) + (dfa.next[s * 256 + byte] + 1);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      refined[byte] = id;
    }
    classOf = refined;
    count = ids.size;
    if (count === 256) break;
  }
  const representatives: number[] = [];
  const seen = new Set<number>();
  for (let byte = 0; byte < 256; byte++) {
    if (!seen.has(classOf[byte])) {
      seen.add(classOf[byte]);
      representatives.push(byte);
    }
  }
  return { classOf, representatives };
}
