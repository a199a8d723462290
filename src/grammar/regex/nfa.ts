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
import { type Charged, compileStep, sharedWork } from '../deadline.js';

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
const classTries = new Map<string, Charged<ClassTrie>>();

function sharedClassTrie(set: CodePointSet): ClassTrie {
  const key = set.map(([lo, hi]) => `${lo}-${hi}`).join(',');
  if (!classTries.has(key) && classTries.size >= KEPT_CLASS_TRIES) classTries.delete(classTries.keys().next().value!);
  return sharedWork(classTries, key, () => classTrie(set));
}

export function buildNfa(ast: RegexNode, limits: RegexLimits = DEFAULT_REGEX_LIMITS): Nfa {
  const { nfa, starts } = new NfaBuilder(limits.maxNfaStates).build([ast]);
  return { ...nfa, start: starts[0] };
}

/** A counted repetition the grammar's automaton follows itself: called as rule `rules.length + i`. */
export interface CountedLexeme {
  readonly unit: RegexNode;
  readonly min: number;
  readonly max: number;
}

/**
 * One NFA for every rule of a grammar; rule r begins at `starts[r]`, and all end in the one match
 * state. Counted repetitions become calls of `counted[i]`, rule number `rules.length + i`.
 */
export function buildGrammarNfa(
  rules: readonly RegexNode[],
  limits: RegexLimits = DEFAULT_REGEX_LIMITS,
): { nfa: Nfa; starts: number[]; counted: CountedLexeme[] } {
  const builder = new NfaBuilder(limits.maxNfaStates, rules.length);
  return { ...builder.build(rules), counted: builder.counted };
}

class NfaBuilder {
  private readonly kinds: number[] = [];
  private readonly edgeLists: number[][] = [];
  private readonly tries = new WeakMap<CodePointSet, ClassTrie>();
  readonly counted: CountedLexeme[] = [];
  private readonly countedIds = new Map<string, number>();

  /** `firstCountedRule`: the rule number of the first counted lexeme; undefined outside grammars. */
  constructor(
    private readonly maxStates: number,
    private readonly firstCountedRule?: number,
  ) {}

  build(rules: readonly RegexNode[]): { nfa: Nfa; starts: number[] } {
    const match = this.add(MATCH_STATE, []);
    const starts = rules.map((rule) => this.compile(rule, match));
    const edgeStart = new Int32Array(this.kinds.length + 1);
    for (let s = 0; s < this.kinds.length; s++) edgeStart[s + 1] = edgeStart[s] + this.edgeLists[s].length;
    const edges = new Int32Array(edgeStart[this.kinds.length]);
    this.edgeLists.forEach((list, s) => edges.set(list, edgeStart[s]));
    return {
      nfa: { start: starts[0] ?? match, stateCount: this.kinds.length, kind: Uint8Array.from(this.kinds), edgeStart, edges },
      starts,
    };
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
      case 'list':
        return this.compileList(node, next);
      case 'counted':
        return this.compileCounted(node, next);
    }
  }

  private compileCounted(node: Extract<RegexNode, { type: 'counted' }>, next: number): number {
    if (this.firstCountedRule === undefined) return this.compileRepeat(node.unit, node.min, node.max, next);
    if (node.max === 0) return next;
    // A rule may not match the empty text: min 0 is "nothing, or at least one".
    const min = Math.max(node.min, 1);
    const key = `${min},${node.max},${JSON.stringify(node.unit)}`;
    let index = this.countedIds.get(key);
    if (index === undefined) {
      index = this.counted.push({ unit: node.unit, min, max: node.max }) - 1;
      this.countedIds.set(key, index);
    }
    const call = this.add(CALL_STATE, [this.firstCountedRule + index, next]);
    return node.min === 0 ? this.add(SPLIT_STATE, [call, next]) : call;
  }

  /**
   * States S(i, k): i elements written (capped once only the rest repeats and the length is
   * unbounded) and k counted ones (capped at the count's maximum, or its minimum when unbounded).
   * Built backwards like members; NONE marks states from which no list can end within its counts.
   */
  private compileList(node: Extract<RegexNode, { type: 'list' }>, next: number): number {
    const { prefix, rest, separator, minCount, maxCount, countMin, countMax } = node;
    // Saturated positions repeat elements with their separator: never position 0, which has none.
    const lengthCap = maxCount !== Infinity ? maxCount : Math.max(minCount, prefix.length, 1);
    const countCap = countMax !== Infinity ? countMax : countMin;
    if ((lengthCap + 1) * (countCap + 1) > this.maxStates)
      throw new RegexError(`too many array positions to count (${lengthCap} elements, ${countCap} counted)`);
    const NONE = -1;
    const join = (a: number, b: number): number => (a === NONE ? b : b === NONE ? a : this.add(SPLIT_STATE, [a, b]));
    const element = (item: RegexNode | undefined, i: number, target: number): number =>
      item === undefined || target === NONE ? NONE : this.compile(i === 0 ? item : { type: 'sequence', items: [separator, item] }, target);
    const states: number[][] = Array.from({ length: lengthCap + 1 }, () => new Array<number>(countCap + 1).fill(NONE));
    for (let i = lengthCap; i >= 0; i--) {
      for (let k = countCap; k >= 0; k--) {
        const end = i >= minCount && k >= countMin ? next : NONE;
        const at = i < prefix.length ? prefix[i] : rest;
        if (at === undefined || i >= maxCount) {
          states[i][k] = end;
          continue;
        }
        const saturated = maxCount === Infinity && i === lengthCap;
        const nextK = countMax === Infinity ? Math.min(k + 1, countCap) : k + 1;
        if (saturated) {
          // The rest repeats here: plain elements loop back, counted ones move k up (or loop at the cap).
          const loopsOnCounted = at.counted !== undefined && (countMax === Infinity ? nextK === k : false);
          const exitCounted =
            at.counted !== undefined && !loopsOnCounted && nextK <= countCap ? element(at.counted, i, states[i][nextK]) : NONE;
          const core = join(exitCounted, end);
          if (at.plain === undefined && !loopsOnCounted) {
            states[i][k] = core;
            continue;
          }
          if (core === NONE) {
            states[i][k] = NONE;
            continue;
          }
          const loop = this.add(SPLIT_STATE, [-1, core]);
          const body = join(
            at.plain === undefined ? NONE : element(at.plain, i, loop),
            loopsOnCounted ? element(at.counted, i, loop) : NONE,
          );
          this.edgeLists[loop][0] = body;
          if (body === NONE) this.edgeLists[loop].shift();
          states[i][k] = loop;
          continue;
        }
        const plain = element(at.plain, i, states[i + 1][k]);
        const counted = nextK <= countCap ? element(at.counted, i, states[i + 1][nextK]) : NONE;
        states[i][k] = join(join(plain, counted), end);
      }
    }
    return states[0][0] === NONE ? this.add(BYTE_STATE, []) : states[0][0];
  }

  /** One byte state per DFA state; an accepting one is entered through a split that may leave to `next`. */
  private compileDfa(dfa: ExplicitDfa, next: number): number {
    if (dfa.start < 0) return this.add(BYTE_STATE, []);
    const byteStates: number[] = [];
    for (let s = 0; s < dfa.stateCount; s++) byteStates.push(this.add(BYTE_STATE, []));
    const entries = byteStates.map((state, s) => (dfa.accepting[s] === 1 ? this.add(SPLIT_STATE, [state, next]) : state));
    for (let s = 0; s < dfa.stateCount; s++) {
      const edges: number[] = [];
      for (let byte = 0; byte < 256;) {
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
    const { items, separator, extra, minCount, maxCount, witness } = node;
    const unbounded = maxCount === Infinity;
    const top = unbounded ? Math.max(minCount, 1) : maxCount;
    const flags = witness === undefined ? 1 : 2;
    if ((items.length + 1) * (top + 1) * flags > this.maxStates) {
      throw new RegexError(`too many member positions to count (${items.length} members, up to ${top})`);
    }
    const NONE = -1;
    const after = (c: number): number => (unbounded ? Math.min(c + 1, top) : c + 1);
    const canAdd = (c: number): boolean => unbounded || c + 1 <= maxCount;
    const join = (a: number, b: number): number => (a === NONE ? b : b === NONE ? a : this.add(SPLIT_STATE, [a, b]));
    const member = (item: RegexNode, c: number, target: number): number =>
      target === NONE ? NONE : this.compile(c === 0 ? item : { type: 'sequence', items: [separator, item] }, target);
    // rows[w][c]: the state at the current position with count c, witness seen (w = 1) or not.
    // Extras (and the witness) may come any number of times before the item at the position.
    const withExtras = (rows: number[][], w: number, c: number, core: number): number => {
      let state = core;
      if (witness !== undefined && w === 0 && canAdd(c)) state = join(member(witness, c, rows[1][after(c)]), state);
      if (extra === undefined || !canAdd(c)) return state;
      if (after(c) !== c) return join(member(extra, c, rows[w][after(c)]), state);
      if (state === NONE) return NONE;
      const loop = this.add(SPLIT_STATE, [-1, state]);
      this.edgeLists[loop][0] = member(extra, c, loop);
      return loop;
    };
    const row = (): number[][] => Array.from({ length: flags }, () => new Array<number>(top + 1));
    const fill = (rows: number[][], core: (w: number, c: number) => number) => {
      // Witness seen (w = 1) first: w = 0 rows lead into them.
      for (let w = flags - 1; w >= 0; w--) for (let c = top; c >= 0; c--) rows[w][c] = withExtras(rows, w, c, core(w, c));
    };
    let below = row();
    fill(below, (w, c) => (c >= minCount && (witness === undefined || w === 1) ? next : NONE));
    for (let i = items.length - 1; i >= 0; i--) {
      const rows = row();
      const previous = below;
      fill(rows, (w, c) => {
        const take = canAdd(c) ? member(items[i].node, c, previous[w][after(c)]) : NONE;
        return join(take, items[i].required ? NONE : previous[w][c]);
      });
      below = rows;
    }
    // A list that cannot end within its counts: a byte state without edges, which matches nothing.
    return below[0][0] === NONE ? this.add(BYTE_STATE, []) : below[0][0];
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
    compileStep();
    if (this.kinds.length >= this.maxStates) {
      throw new RegexError(
        `pattern too complex: its automaton needs more than ${this.maxStates} states (repetition counts multiply; lower them)`,
      );
    }
    this.kinds.push(kind);
    this.edgeLists.push(edges);
    return this.kinds.length - 1;
  }
}
