// Syntax tree -> byte NFA (Thompson's construction over byte ranges). Each node is compiled
// backwards, toward the state that follows it, so no fragment needs patching except the loop of
// an unbounded repetition. `{m,n}` expands into copies of its item: the state count is checked as
// states are made, so a pattern whose copies multiply fails as soon as it crosses the limit.
import type { RegexNode } from './ast.js';
import { dfaNext, type ExplicitDfa } from './explicit-dfa.js';
import { type ClassTrie, classTrie, NEXT } from './class-trie.js';
import type { CodePointSet } from './code-point-set.js';
import { RegexError } from './error.js';
import { DEFAULT_REGEX_LIMITS, type RegexLimits } from './limits.js';
import { encodeUtf8 } from './utf8.js';

/** Consumes one byte: its edges are triples (lo, hi, target). */
export const BYTE_STATE = 0;
/** Consumes nothing: its edges are the targets it may move to. */
export const SPLIT_STATE = 1;
export const MATCH_STATE = 2;
/** Grammars only: enters rule edges[0], whose end continues at edges[1]. Consumes nothing itself. */
export const CALL_STATE = 3;

export interface Nfa {
  readonly start: number;
  readonly stateCount: number;
  readonly kind: Uint8Array;
  /** The edges of state s are edges[edgeStart[s]] up to edges[edgeStart[s + 1]]. */
  readonly edgeStart: Int32Array;
  readonly edges: Int32Array;
}

/**
 * Class tries by the ranges of their set, across builds: grammars compiled from JSON Schemas use
 * the same few classes (string characters, digits) in every pattern they parse.
 */
const KEPT_CLASS_TRIES = 512;
const classTries = new Map<string, ClassTrie>();

function sharedClassTrie(set: CodePointSet): ClassTrie {
  const key = set.map(([lo, hi]) => `${lo}-${hi}`).join(',');
  let trie = classTries.get(key);
  if (trie === undefined) {
    trie = classTrie(set);
    if (classTries.size >= KEPT_CLASS_TRIES) classTries.delete(classTries.keys().next().value!);
    classTries.set(key, trie);
  }
  return trie;
}

export function buildNfa(ast: RegexNode, limits: RegexLimits = DEFAULT_REGEX_LIMITS): Nfa {
  const { nfa, starts } = new NfaBuilder(limits.maxNfaStates).build([ast]);
  return { ...nfa, start: starts[0] };
}

/** One NFA for every rule of a grammar; rule r begins at `starts[r]`, and all end in the one match state. */
export function buildGrammarNfa(rules: readonly RegexNode[], limits: RegexLimits = DEFAULT_REGEX_LIMITS): { nfa: Nfa; starts: number[] } {
  return new NfaBuilder(limits.maxNfaStates).build(rules);
}

class NfaBuilder {
  private readonly kinds: number[] = [];
  private readonly edgeLists: number[][] = [];
  private readonly tries = new WeakMap<CodePointSet, ClassTrie>();

  constructor(private readonly maxStates: number) {}

  build(rules: readonly RegexNode[]): { nfa: Nfa; starts: number[] } {
    const match = this.add(MATCH_STATE, []);
    const starts = rules.map((rule) => this.compile(rule, match));
    const edgeStart = new Int32Array(this.kinds.length + 1);
    for (let s = 0; s < this.kinds.length; s++) edgeStart[s + 1] = edgeStart[s] + this.edgeLists[s].length;
    const edges = new Int32Array(edgeStart[this.kinds.length]);
    this.edgeLists.forEach((list, s) => edges.set(list, edgeStart[s]));
    return { nfa: { start: starts[0] ?? match, stateCount: this.kinds.length, kind: Uint8Array.from(this.kinds), edgeStart, edges }, starts };
  }

  /** The first state of `node`, whose matches continue at `next`. */
  private compile(node: RegexNode, next: number): number {
    switch (node.type) {
      case 'empty':
        return next;
      case 'chars':
        return this.compileSet(node.set, next);
      case 'group':
        return this.compile(node.item, next);
      case 'sequence': {
        let state = next;
        for (let i = node.items.length - 1; i >= 0; i--) state = this.compile(node.items[i], state);
        return state;
      }
      case 'alternation': {
        const targets = [...new Set(node.options.map((option) => this.compile(option, next)))];
        return targets.length === 1 ? targets[0] : this.add(SPLIT_STATE, targets);
      }
      case 'repeat':
        return this.compileRepeat(node.item, node.min, node.max, next);
      case 'call':
        return this.add(CALL_STATE, [node.rule, next]);
      case 'members':
        return this.compileMembers(node, next);
      case 'dfa':
        return this.compileDfa(node.dfa, next);
    }
  }

  /** One byte state per DFA state; an accepting one is entered through a split that may leave to `next`. */
  private compileDfa(dfa: ExplicitDfa, next: number): number {
    if (dfa.start < 0) return this.add(BYTE_STATE, []);
    const byteStates: number[] = [];
    for (let s = 0; s < dfa.stateCount; s++) byteStates.push(this.add(BYTE_STATE, []));
    const entries = byteStates.map((state, s) => (dfa.accepting[s] === 1 ? this.add(SPLIT_STATE, [state, next]) : state));
    for (let s = 0; s < dfa.stateCount; s++) {
      const edges: number[] = [];
      for (let byte = 0; byte < 256; ) {
        const target = dfaNext(dfa, s, byte);
        let end = byte;
        while (end + 1 < 256 && dfaNext(dfa, s, end + 1) === target) end++;
        if (target >= 0) edges.push(byte, end, entries[target]);
        byte = end + 1;
      }
      this.edgeLists[byteStates[s]] = edges;
    }
    return entries[dfa.start];
  }

  /**
   * States S(i, c): items from i on are still to be chosen and c members were written (c = 0: none
   * yet, so the next one has no separator). Counts are tracked up to K: the maximum, or, without
   * one, the minimum (c = K then means "at least K"). Built backwards from i = n; NONE marks a
   * state from which no member list can end within the counts.
   */
  private compileMembers(node: Extract<RegexNode, { type: 'members' }>, next: number): number {
    const { items, separator, extra, minCount, maxCount } = node;
    const unbounded = maxCount === Infinity;
    const top = unbounded ? Math.max(minCount, 1) : maxCount;
    if ((items.length + 1) * (top + 1) > this.maxStates) {
      throw new RegexError(`too many member positions to count (${items.length} members, up to ${top})`);
    }
    const NONE = -1;
    const after = (c: number): number => (unbounded ? Math.min(c + 1, top) : c + 1);
    const canAdd = (c: number): boolean => unbounded || c + 1 <= maxCount;
    const join = (a: number, b: number): number => (a === NONE ? b : b === NONE ? a : this.add(SPLIT_STATE, [a, b]));
    const member = (item: RegexNode, c: number, target: number): number =>
      target === NONE ? NONE : this.compile(c === 0 ? item : { type: 'sequence', items: [separator, item] }, target);
    // Extras at position i: before choosing item i, any number of them.
    const withExtras = (row: number[], c: number, core: number): number => {
      if (extra === undefined || !canAdd(c)) return core;
      if (after(c) !== c) return join(member(extra, c, row[after(c)]), core);
      if (core === NONE) return NONE;
      const loop = this.add(SPLIT_STATE, [-1, core]);
      this.edgeLists[loop][0] = member(extra, c, loop);
      return loop;
    };
    let below: number[] = [];
    const last: number[] = new Array(top + 1);
    for (let c = top; c >= 0; c--) last[c] = withExtras(last, c, c >= minCount ? next : NONE);
    below = last;
    for (let i = items.length - 1; i >= 0; i--) {
      const row: number[] = new Array(top + 1);
      for (let c = top; c >= 0; c--) {
        const take = canAdd(c) ? member(items[i].node, c, below[after(c)]) : NONE;
        const core = join(take, items[i].required ? NONE : below[c]);
        row[c] = withExtras(row, c, core);
      }
      below = row;
    }
    // A list that cannot end within its counts: a byte state without edges, which matches nothing.
    return below[0] === NONE ? this.add(BYTE_STATE, []) : below[0];
  }

  private compileRepeat(item: RegexNode, min: number, max: number, next: number): number {
    let state = next;
    let copies = min;
    if (max === Infinity) {
      const loop = this.add(SPLIT_STATE, [-1, next]);
      const body = this.compile(item, loop);
      this.edgeLists[loop][0] = body;
      // x+ enters the body first; x* may skip it. Either way one loop serves all the repetitions.
      if (min > 0) {
        state = body;
        copies = min - 1;
      } else state = loop;
    } else {
      // x{0,k} nests its optional copies, x(x(x)?)?, so each one adds one split and not k.
      for (let i = min; i < max; i++) state = this.add(SPLIT_STATE, [this.compile(item, state), next]);
    }
    for (let i = 0; i < copies; i++) state = this.compile(item, state);
    return state;
  }

  private compileSet(set: CodePointSet, next: number): number {
    if (set.length === 1 && set[0][0] === set[0][1]) return this.compileCodePoint(set[0][0], next);
    let trie = this.tries.get(set);
    if (!trie) {
      trie = sharedClassTrie(set);
      this.tries.set(set, trie);
    }
    const ids: number[] = [];
    for (const edges of trie.states) {
      const copy = edges.slice();
      for (let e = 2; e < copy.length; e += 3) copy[e] = copy[e] === NEXT ? next : ids[copy[e]];
      ids.push(this.add(BYTE_STATE, copy));
    }
    return ids[trie.entry];
  }

  /** A literal: a chain of one state per byte. */
  private compileCodePoint(codePoint: number, next: number): number {
    const bytes = encodeUtf8(codePoint);
    let state = next;
    for (let i = bytes.length - 1; i >= 0; i--) state = this.add(BYTE_STATE, [bytes[i], bytes[i], state]);
    return state;
  }

  private add(kind: number, edges: number[]): number {
    if (this.kinds.length >= this.maxStates) {
      throw new RegexError(`pattern too complex: its automaton needs more than ${this.maxStates} states (repetition counts multiply; lower them)`);
    }
    this.kinds.push(kind);
    this.edgeLists.push(edges);
    return this.kinds.length - 1;
  }
}
