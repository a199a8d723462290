// Operations on regular languages as explicit DFAs: a grammar node (without rule calls) made
// deterministic, products (intersection, difference, union), trimming and minimizing. Every result
// is trimmed: each state can still reach an accepting one, so embedding it leaves no dead end. All
// are bounded by a state budget: past it they throw RegularError, and the caller refuses the
// constraint that needed them.
import type { GrammarNode } from '../cfg/nodes.js';
import { dfaNext, type ExplicitDfa } from '../regex/explicit-dfa.js';
import { RegexAutomaton } from '../regex/dfa.js';
import { refineClasses } from '../regex/byte-classes.js';
import { grown } from '../regex/interned-sets.js';
import { buildNfa } from '../regex/nfa.js';
import { DEAD } from '../automaton.js';
import { compileStep } from '../deadline.js';

export class RegularError extends Error {
  override name = 'RegularError';
}

const DEFAULT_MAX_STATES = 4096;

const EMPTY_LANGUAGE: ExplicitDfa = Object.freeze({
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
    compileStep();
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
  return trim({
    stateCount: order.length,
    start: 0,
    accepting,
    classOf: Uint8Array.from(classOf),
    classCount: count,
    next: Int32Array.from(next),
  });
}

export type ProductMode = 'and' | 'or' | 'and-not';

/** A DFA to take a product with: an explicit one, or a lazy one built from a node as the product goes. */
export interface DfaLike {
  readonly start: number;
  readonly classOf: Uint8Array;
  next(state: number, byte: number): number;
  accepting(state: number): boolean;
}

function explicit(dfa: ExplicitDfa): DfaLike {
  return { start: dfa.start, classOf: dfa.classOf, next: (s, b) => dfaNext(dfa, s, b), accepting: (s) => dfa.accepting[s] === 1 };
}

function asDfaLike(dfa: DfaLike | ExplicitDfa): DfaLike {
  return typeof dfa.next === 'function' ? (dfa as DfaLike) : explicit(dfa as ExplicitDfa);
}

/** The lazy DFA of a call-free node: only the states a product reaches are ever made. */
export function lazy(node: GrammarNode): DfaLike {
  const automaton = RegexAutomaton.fromNfa(buildNfa(node));
  return {
    start: automaton.start,
    classOf: automaton.byteClasses.classOf,
    next: (s, b) => automaton.next(s, b),
    accepting: (s) => automaton.accepting(s),
  };
}

/** The product of two DFAs: both accept (and), either (or), or the first but not the second (and-not). */
export function product(
  a: DfaLike | ExplicitDfa,
  b: DfaLike | ExplicitDfa,
  mode: ProductMode,
  maxStates = DEFAULT_MAX_STATES,
): ExplicitDfa {
  const x = asDfaLike(a);
  const y = asDfaLike(b);
  const accepts = (sa: number, sb: number): boolean => {
    const inA = sa >= 0 && x.accepting(sa);
    const inB = sb >= 0 && y.accepting(sb);
    return mode === 'and' ? inA && inB : mode === 'or' ? inA || inB : inA && !inB;
  };
  // A pair is dead when no continuation can make it accept (both DFAs are trimmed).
  const dead = (sa: number, sb: number): boolean => (mode === 'or' ? sa < 0 && sb < 0 : sa < 0 || (mode === 'and' && sb < 0));
  if (dead(x.start, y.start)) return EMPTY_LANGUAGE;
  const { classOf, count: classCount, representative: representatives } = refineClasses([x.classOf, y.classOf]);
  const ids = new Map<number, number>();
  const pairs: number[] = [];
  const visit = (sa: number, sb: number): number => {
    compileStep();
    const k = (sa + 1) * 0x100000000 + (sb + 1);
    let id = ids.get(k);
    if (id === undefined) {
      if (pairs.length / 2 >= maxStates) throw new RegularError(`the language needs more than ${maxStates} automaton states`);
      id = pairs.length / 2;
      ids.set(k, id);
      pairs.push(sa, sb);
    }
    return id;
  };
  visit(x.start, y.start);
  let next = new Int32Array(64 * classCount);
  for (let i = 0; i < pairs.length / 2; i++) {
    const sa = pairs[2 * i];
    const sb = pairs[2 * i + 1];
    if ((i + 1) * classCount > next.length) next = grown(next, next.length * 2);
    for (let c = 0; c < classCount; c++) {
      const byte = representatives[c];
      const ta = sa < 0 ? -1 : x.next(sa, byte);
      const tb = sb < 0 ? -1 : y.next(sb, byte);
      next[i * classCount + c] = dead(ta, tb) ? -1 : visit(ta, tb);
    }
  }
  const count = pairs.length / 2;
  const accepting = new Uint8Array(count);
  for (let i = 0; i < count; i++) accepting[i] = accepts(pairs[2 * i], pairs[2 * i + 1]) ? 1 : 0;
  return trim({ stateCount: count, start: 0, accepting, classOf, classCount, next: next.subarray(0, count * classCount) });
}

/** Only the states from which an accepting state can be reached, renumbered; -1 start if none. */
export function trim(dfa: ExplicitDfa): ExplicitDfa {
  const { stateCount, next, accepting, classCount } = dfa;
  if (dfa.start < 0) return EMPTY_LANGUAGE;
  // Reverse edges in flat arrays: incoming[inStart[t] .. inStart[t + 1]).
  const inStart = new Int32Array(stateCount + 1);
  for (let i = 0; i < stateCount * classCount; i++) if (next[i] >= 0) inStart[next[i] + 1]++;
  for (let t = 0; t < stateCount; t++) inStart[t + 1] += inStart[t];
  const fill = inStart.slice(0, stateCount);
  const incoming = new Int32Array(inStart[stateCount]);
  for (let s = 0; s < stateCount; s++) {
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      if (t >= 0) incoming[fill[t]++] = s;
    }
  }
  const live = new Uint8Array(stateCount);
  const stack = new Int32Array(stateCount);
  let depth = 0;
  for (let s = 0; s < stateCount; s++)
    if (accepting[s] === 1) {
      live[s] = 1;
      stack[depth++] = s;
    }
  while (depth > 0) {
    const t = stack[--depth];
    for (let i = inStart[t]; i < inStart[t + 1]; i++) {
      const s = incoming[i];
      if (live[s] === 0) {
        live[s] = 1;
        stack[depth++] = s;
      }
    }
  }
  if (live[dfa.start] === 0) return EMPTY_LANGUAGE;
  const id = new Int32Array(stateCount).fill(-1);
  const order = new Int32Array(stateCount);
  let count = 0;
  order[count++] = dfa.start;
  id[dfa.start] = 0;
  for (let i = 0; i < count; i++) {
    const s = order[i];
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      if (t >= 0 && live[t] === 1 && id[t] < 0) {
        id[t] = count;
        order[count++] = t;
      }
    }
  }
  const trimmed = new Int32Array(count * classCount);
  const kept = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const s = order[i];
    kept[i] = accepting[s];
    for (let c = 0; c < classCount; c++) {
      const t = next[s * classCount + c];
      trimmed[i * classCount + c] = t >= 0 && live[t] === 1 ? id[t] : -1;
    }
  }
  return { stateCount: count, start: 0, accepting: kept, classOf: dfa.classOf, classCount, next: trimmed };
}

/**
 * The minimal DFA of the same language: Hopcroft's partition refinement (O(n log n) per class),
 * over the DFA completed with a dead sink, which is dropped again by trimming.
 */
export function minimize(dfa: ExplicitDfa): ExplicitDfa {
  const n = dfa.stateCount;
  if (dfa.start < 0 || n <= 1) return dfa;
  const width = dfa.classCount;
  const total = n + 1;
  const sink = n;
  const target = (s: number, c: number): number => {
    if (s === sink) return sink;
    const t = dfa.next[s * width + c];
    return t < 0 ? sink : t;
  };
  // Predecessors by class, as lists in flat arrays: preStart[c * (total + 1) + t] ...
  const preCount = new Int32Array(width * (total + 1));
  for (let s = 0; s < total; s++) for (let c = 0; c < width; c++) preCount[c * (total + 1) + target(s, c) + 1]++;
  for (let i = 1; i < preCount.length; i++) preCount[i] += preCount[i - 1];
  const preStart = preCount;
  const fill = preStart.slice();
  const pre = new Int32Array(width * total);
  for (let s = 0; s < total; s++) for (let c = 0; c < width; c++) pre[fill[c * (total + 1) + target(s, c)]++] = s;

  // Partition: elements ordered by block; block b spans elements[first[b] .. last[b]).
  const elements = new Int32Array(total);
  const position = new Int32Array(total);
  const blockOf = new Int32Array(total);
  const first: number[] = [];
  const last: number[] = [];
  const marked: number[] = [];
  let count = 0;
  const accepting = (s: number) => s !== sink && dfa.accepting[s] === 1;
  for (const wanted of [true, false]) {
    const start = count;
    for (let s = 0; s < total; s++)
      if (accepting(s) === wanted) {
        elements[count] = s;
        position[s] = count++;
      }
    if (count > start) {
      for (let i = start; i < count; i++) blockOf[elements[i]] = first.length;
      first.push(start);
      last.push(count);
      marked.push(0);
    }
  }
  const pending: number[] = [];
  const inPending: boolean[] = [];
  for (let b = 0; b < first.length; b++) {
    pending.push(b);
    inPending[b] = true;
  }
  const touched: number[] = [];
  while (pending.length > 0) {
    const splitter = pending.pop()!;
    inPending[splitter] = false;
    const members = Array.from(elements.subarray(first[splitter], last[splitter]));
    for (let c = 0; c < width; c++) {
      touched.length = 0;
      for (const t of members) {
        for (let i = preStart[c * (total + 1) + t]; i < preStart[c * (total + 1) + t + 1]; i++) {
          const s = pre[i];
          const b = blockOf[s];
          // Move s to the marked front of its block.
          const at = position[s];
          const front = first[b] + marked[b];
          if (at < front) continue;
          const other = elements[front];
          elements[front] = s;
          position[s] = front;
          elements[at] = other;
          position[other] = at;
          if (marked[b]++ === 0) touched.push(b);
        }
      }
      for (const b of touched) {
        const size = last[b] - first[b];
        const split = marked[b];
        marked[b] = 0;
        if (split === size) continue;
        // The marked part becomes a new block.
        const created = first.length;
        first.push(first[b]);
        last.push(first[b] + split);
        marked.push(0);
        first[b] += split;
        for (let i = first[created]; i < last[created]; i++) blockOf[elements[i]] = created;
        if (inPending[b]) {
          pending.push(created);
          inPending[created] = true;
        } else {
          const smaller = split <= size - split ? created : b;
          pending.push(smaller);
          inPending[smaller] = true;
        }
      }
    }
  }
  const blocks = first.length;
  const next = new Int32Array(blocks * width).fill(-1);
  const accepts = new Uint8Array(blocks);
  for (let s = 0; s < n; s++) {
    const b = blockOf[s];
    accepts[b] = dfa.accepting[s];
    for (let c = 0; c < width; c++) next[b * width + c] = blockOf[target(s, c)];
  }
  // The sink's block is dead: trimming removes it (and every edge into it).
  return trim({ stateCount: blocks, start: blockOf[dfa.start], accepting: accepts, classOf: dfa.classOf, classCount: width, next });
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
