// A grammar as a ByteAutomaton: the rules' NFA is determinized lazily (one DFA over all rules;
// no DFA state mixes two rules, since closures never cross a call), and the pushdown part is
// determinized lazily on top of it. A configuration is the set of stacks the text so far may have
// left (usually one: several only while alternatives that call different rules share a prefix);
// a stack is a DFA state on top of a tail, the interned list of return states below it. Both
// configurations and tails are interned, so a configuration is a number and its transitions are
// cached in a table like a DFA's: inside a rule, stepping costs what stepping a regex costs.
//
// Rules must not match the empty text (every JSON value has a byte) and must not call themselves
// before consuming a byte; `compile` checks both. Then a byte step pushes and pops finitely.
import { DEAD, type ByteAutomaton } from '../automaton.js';
import { RegexAutomaton } from '../regex/dfa.js';
import { refineClasses } from '../regex/byte-classes.js';
import { grownBytes, InternedSets } from '../regex/interned-sets.js';
import { TransitionTable } from '../transition-table.js';
import { DEFAULT_REGEX_LIMITS, type RegexLimits } from '../regex/limits.js';
import { buildGrammarNfa, CALL_STATE, type CountedLexeme, type Nfa } from '../regex/nfa.js';
import { dfaNext, type ExplicitDfa } from '../regex/explicit-dfa.js';
import { determinize } from '../regular/index.js';
import { explorePlainText, plainRepresentatives } from '../plain-text.js';
import { GrammarError } from './error.js';
import type { Grammar } from './grammar.js';
import { pruneUnproductive } from './productive.js';

export interface PushdownLimits extends RegexLimits {
  /** Configurations made over the automaton's life; beyond, `next` throws GrammarError. */
  maxConfigurations: number;
  /** Stacks in one configuration (alternatives followed at once). */
  maxStacks: number;
  /** Rules entered or left while reading one byte. */
  maxCallDepth: number;
}

const DEFAULT_PUSHDOWN_LIMITS: Readonly<PushdownLimits> = Object.freeze({
  ...DEFAULT_REGEX_LIMITS,
  maxNfaStates: 2_000_000,
  maxStates: 500_000,
  maxConfigurations: 500_000,
  maxStacks: 512,
  maxCallDepth: 5_000,
});

/** A compiled grammar as plain data (typed arrays and numbers): what crosses threads. */
export interface PushdownParts {
  /** One NFA for every rule (see buildGrammarNfa). */
  readonly nfa: Nfa;
  /** The NFA state each rule begins in. */
  readonly starts: readonly number[];
  /** Counted lexemes, called as rules after the others: each unit's DFA and the count's bounds. */
  readonly lexemes: readonly { readonly unit: ExplicitDfa; readonly min: number; readonly max: number }[];
  /** The rule the whole text must match. */
  readonly start: number;
  readonly names: readonly string[];
}

/**
 * DFA states explored to prove a rule state safe on plain text. Small: a proof that fails (the
 * trie of an object's declared keys, say) costs as much as it explored, in new DFA states.
 */
const PLAIN_EXPLORATION = 64;

const ROOT = 0;
const NO_CALLS = new Int32Array(0);

export class PushdownAutomaton implements ByteAutomaton {
  readonly start: number;
  readonly dfa: RegexAutomaton;
  /** The DFA state each rule begins in (DEAD for a rule that matches nothing). */
  private readonly ruleStart: Int32Array;
  /** Per DFA state: pairs (callee's start state, state to return to), or NO_CALLS. */
  private callsOf: (Int32Array | undefined)[] = [];
  /** Tail t is the pair (tail below, return state); tail ROOT is the bottom. */
  private readonly tails = new InternedSets();
  private tailAccepts = new Uint8Array(64);
  /** A configuration is the sorted list of pairs (tail, DFA state) of its stacks. */
  private readonly configs = new InternedSets();
  private configAccepts = new Uint8Array(64);
  private readonly classOf: Uint8Array;
  private readonly representative: Uint8Array;
  private readonly transitions: TransitionTable;
  private readonly pairs: number[] = [];
  private scratch = new Int32Array(64);
  /** Plain-text safety (see plainTextSafe), memoized per configuration, DFA state and counted unit. */
  private readonly safeConfigs: (boolean | undefined)[] = [];
  private readonly safeTops = new Map<number, boolean>();
  private readonly unitSafe: (boolean | undefined)[] = [];
  /** One plain byte per byte class and UTF-8 position (see plainRepresentatives). */
  private plainBytes: Uint8Array[] | undefined;
  /**
   * Counted lexemes (see CountedLexeme): a stack's top may be one of their states instead of a DFA
   * state. Such a state is (lexeme, state of its unit's DFA, units read so far), interned, and
   * numbered -2 - index so it never clashes with DFA states or DEAD.
   */
  private readonly lexemes: readonly { readonly unit: ExplicitDfa; readonly min: number; readonly max: number }[];
  private readonly lexemeStates = new Map<number, number>();
  private lexemeOf: number[] = [];
  private unitStateOf: number[] = [];
  private countOf: number[] = [];

  private constructor(
    /** The grammar compiled: plain data another thread can rebuild the automaton from. */
    readonly parts: PushdownParts,
    private readonly limits: PushdownLimits,
    check: boolean,
  ) {
    this.dfa = RegexAutomaton.fromNfa(parts.nfa, limits);
    this.lexemes = parts.lexemes;
    this.ruleStart = Int32Array.from([
      ...parts.starts.map((s) => this.dfa.stateOf([s])),
      ...this.lexemes.map((_, i) => this.lexemeState(i, 0, 0)),
    ]);
    // Bytes of one class must lead every rule state and every counted unit alike.
    const classes = refineClasses([this.dfa.byteClasses.classOf, ...this.lexemes.map((lexeme) => lexeme.unit.classOf)]);
    this.classOf = classes.classOf;
    this.representative = classes.representative;
    this.transitions = new TransitionTable(classes.count, limits);
    if (check) this.checkRules();
    const root = this.tails.intern(Int32Array.of(-1, -1), 2);
    if (root !== ROOT) throw new Error('the root tail must be the first');
    this.tailAccepts[ROOT] = 1;
    this.start = this.internConfiguration([ROOT, this.ruleStart[parts.start]]);
  }

  /** Throws GrammarError for a grammar that matches nothing or cannot be followed. */
  static compile(grammar: Grammar, limits: Partial<PushdownLimits> = {}): PushdownAutomaton {
    const bounds = { ...DEFAULT_PUSHDOWN_LIMITS, ...limits };
    const pruned = pruneUnproductive(grammar);
    const { nfa, starts, counted } = buildGrammarNfa(pruned.rules, bounds);
    const parts: PushdownParts = { nfa, starts, lexemes: counted.map(countedUnit), start: pruned.start, names: pruned.names };
    return new PushdownAutomaton(parts, bounds, true);
  }

  /**
   * The parts with every array in shared memory: sent to other threads (as each request carrying
   * the grammar is) without being copied.
   */
  static shared(parts: PushdownParts): PushdownParts {
    const nfa = parts.nfa;
    return {
      ...parts,
      nfa: { ...nfa, kind: shared(nfa.kind), edgeStart: shared(nfa.edgeStart), edges: shared(nfa.edges) },
      lexemes: parts.lexemes.map((lexeme) => ({
        ...lexeme,
        unit: {
          ...lexeme.unit,
          accepting: shared(lexeme.unit.accepting),
          classOf: shared(lexeme.unit.classOf),
          next: shared(lexeme.unit.next),
        },
      })),
    };
  }

  /** The automaton of parts an earlier `compile` made (on another thread, say): no checks again. */
  static fromParts(parts: PushdownParts, limits: Partial<PushdownLimits> = {}): PushdownAutomaton {
    return new PushdownAutomaton(parts, { ...DEFAULT_PUSHDOWN_LIMITS, ...limits }, false);
  }

  next(state: number, byte: number): number {
    const target = this.transitions.lookup(state, this.classOf[byte]);
    return target >= DEAD ? target : this.computeNext(state, byte);
  }

  accepting(state: number): boolean {
    return state >= 0 && this.configAccepts[state] === 1;
  }

  get byteClassOf(): Uint8Array {
    return this.classOf;
  }

  /**
   * A configuration survives any plain text when one of its stacks does; a stack does when its top
   * DFA state does within its own rule (plain text never leaves a string, and a rule's own DFA
   * dying is the only way for that stack to die there). Known per DFA state, so every nesting of a
   * rule shares the answer.
   */
  plainTextSafe(state: number, horizon: number): boolean {
    if (state < 0) return false;
    let safe = this.safeConfigs[state];
    if (safe === undefined) {
      safe = false;
      const members = this.configs.members(state);
      for (let i = 1; i < members.length && !safe; i += 2) {
        const top = members[i];
        if (top >= 0 ? this.topSafe(top) : this.lexemeSafe(top, horizon)) safe = true;
      }
      // Lexeme answers depend on the horizon: keep only answers that do not.
      if (!members.some((top, i) => i % 2 === 1 && top < DEAD)) this.safeConfigs[state] = safe;
    }
    return safe;
  }

  /**
   * A counted lexeme survives plain text of `horizon` bytes when its unit does (plain text never
   * kills a plain character, which every unit here accepts) and the count cannot pass its maximum.
   */
  private lexemeSafe(top: number, horizon: number): boolean {
    const index = -2 - top;
    const lexeme = this.lexemes[this.lexemeOf[index]];
    return this.countOf[index] + horizon <= lexeme.max && this.unitPlainSafe(this.lexemeOf[index]);
  }

  private unitPlainSafe(which: number): boolean {
    let safe = this.unitSafe[which];
    if (safe === undefined) {
      // Every plain character must be a whole unit: reading one from the unit's start returns there.
      const { unit } = this.lexemes[which];
      this.plainBytes ??= plainRepresentatives(this.classOf);
      const step = (s: number, b: number) => {
        const t = dfaNext(unit, s, b);
        return t >= 0 && unit.accepting[t] === 1 ? unit.start : t < 0 ? DEAD : t;
      };
      safe = explorePlainText(step, this.plainBytes, unit.start, PLAIN_EXPLORATION, () => undefined) !== undefined;
      this.unitSafe[which] = safe;
    }
    return safe;
  }

  /**
   * Configurations whose counted lexemes sit where no token can reach a bound of their count have
   * the same masks as the one with those counts at the bottom of that zone.
   */
  maskClass(state: number, horizon: number): number {
    if (state < 0 || this.lexemes.length === 0) return state;
    const members = this.configs.members(state);
    let pairs: number[] | undefined;
    for (let i = 1; i < members.length; i += 2) {
      const top = members[i];
      if (top >= DEAD) continue;
      const index = -2 - top;
      const which = this.lexemeOf[index];
      const { min, max } = this.lexemes[which];
      const count = this.countOf[index];
      // Below min by more than a token can add, or at min and more than a token below max.
      const zoneStart = count >= min ? min : 0;
      const inZone = count >= min ? count + horizon <= max : count + horizon < min;
      if (inZone && count !== zoneStart) {
        pairs ??= Array.from(members);
        pairs[i] = this.lexemeState(which, this.unitStateOf[index], zoneStart);
      }
    }
    return pairs ? this.internConfiguration(pairs) : state;
  }

  private topSafe(top: number): boolean {
    const known = this.safeTops.get(top);
    if (known !== undefined) return known;
    this.plainBytes ??= plainRepresentatives(this.classOf);
    const explored = explorePlainText(
      (s, b) => this.dfa.next(s, b),
      this.plainBytes,
      top,
      PLAIN_EXPLORATION,
      (s) => this.safeTops.get(s),
    );
    if (explored) for (const s of explored) this.safeTops.set(s, true);
    else this.safeTops.set(top, false);
    return explored !== undefined;
  }

  /** Configurations made so far. */
  get stateCount(): number {
    return this.configs.size;
  }

  get cacheFlushes(): number {
    return this.transitions.flushes;
  }

  /** Stacks (alternatives followed at once) in configuration `state`. */
  stackCount(state: number): number {
    return state < 0 ? 0 : this.configs.members(state).length / 2;
  }

  private computeNext(state: number, byte: number): number {
    if (state === DEAD) return DEAD;
    if (!Number.isInteger(state) || state < 0 || state >= this.configs.size)
      throw new RangeError(`${state} is not a state of this automaton`);
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new RangeError(`${byte} is not a byte`);
    const byteClass = this.classOf[byte];
    const representative = this.representative[byteClass];
    const members = this.configs.members(state).slice();
    const pairs = this.pairs;
    pairs.length = 0;
    for (let i = 0; i < members.length; i += 2) this.step(members[i], members[i + 1], representative, 0);
    const target = pairs.length === 0 ? DEAD : this.internConfiguration(pairs);
    this.transitions.store(state, byteClass, target);
    return target;
  }

  /** Adds to `pairs` the stacks that tail `tail` under state `top` leaves after `byte`. */
  private step(tail: number, top: number, byte: number, depth: number): void {
    if (depth > this.limits.maxCallDepth)
      throw new GrammarError(`the grammar enters more than ${this.limits.maxCallDepth} rules on one byte`);
    if (top < DEAD) {
      const moved = this.lexemeNext(top, byte);
      if (moved !== DEAD) this.pairs.push(tail, moved);
    } else {
      const moved = this.dfa.next(top, byte);
      if (moved !== DEAD) this.pairs.push(tail, moved);
      const calls = this.calls(top);
      for (let c = 0; c < calls.length; c += 2) this.step(this.tailOf(tail, calls[c + 1]), calls[c], byte, depth + 1);
    }
    if (tail !== ROOT && this.topAccepts(top)) {
      const below = this.tails.members(tail);
      this.step(below[0], below[1], byte, depth + 1);
    }
  }

  private topAccepts(top: number): boolean {
    if (top >= 0) return this.dfa.accepting(top);
    const index = -2 - top;
    const lexeme = this.lexemes[this.lexemeOf[index]];
    return this.unitStateOf[index] === lexeme.unit.start && this.countOf[index] >= lexeme.min;
  }

  private lexemeNext(top: number, byte: number): number {
    const index = -2 - top;
    const which = this.lexemeOf[index];
    const { unit, max } = this.lexemes[which];
    // At the maximum no unit may begin: it could never end (a dead end).
    if (this.countOf[index] >= max && this.unitStateOf[index] === unit.start) return DEAD;
    const moved = dfaNext(unit, this.unitStateOf[index], byte);
    if (moved < 0) return DEAD;
    if (unit.accepting[moved] === 0) return this.lexemeState(which, moved, this.countOf[index]);
    const count = this.countOf[index] + 1;
    return count > max ? DEAD : this.lexemeState(which, unit.start, count);
  }

  private lexemeState(lexeme: number, unitState: number, count: number): number {
    const key = (count * this.lexemes.length + lexeme) * 0x10000 + unitState;
    let index = this.lexemeStates.get(key);
    if (index === undefined) {
      index = this.lexemeOf.length;
      if (index >= this.limits.maxConfigurations)
        throw new GrammarError(`the grammar needs more than ${this.limits.maxConfigurations} automaton states to follow`);
      this.lexemeStates.set(key, index);
      this.lexemeOf.push(lexeme);
      this.unitStateOf.push(unitState);
      this.countOf.push(count);
    }
    return -2 - index;
  }

  private calls(state: number): Int32Array {
    const known = this.callsOf[state];
    if (known !== undefined) return known;
    const { kind, edgeStart, edges } = this.dfa.nfa;
    const returnsByRule = new Map<number, number[]>();
    for (const member of this.dfa.members(state)) {
      if (kind[member] !== CALL_STATE) continue;
      const rule = edges[edgeStart[member]];
      const list = returnsByRule.get(rule);
      if (list) list.push(edges[edgeStart[member] + 1]);
      else returnsByRule.set(rule, [edges[edgeStart[member] + 1]]);
    }
    let calls = NO_CALLS;
    if (returnsByRule.size > 0) {
      const list: number[] = [];
      for (const [rule, returns] of returnsByRule) {
        if (this.ruleStart[rule] !== DEAD) list.push(this.ruleStart[rule], this.dfa.stateOf(returns));
      }
      calls = Int32Array.from(list);
    }
    if (state >= this.callsOf.length) this.callsOf.length = state + 1;
    this.callsOf[state] = calls;
    return calls;
  }

  private tailOf(below: number, returnState: number): number {
    const scratch = this.scratch;
    scratch[0] = below;
    scratch[1] = returnState;
    const known = this.tails.size;
    const tail = this.tails.intern(scratch, 2);
    if (tail === known) {
      if (tail >= this.tailAccepts.length) this.tailAccepts = grownBytes(this.tailAccepts, 2 * this.tailAccepts.length);
      this.tailAccepts[tail] = this.dfa.accepting(returnState) && this.tailAccepts[below] === 1 ? 1 : 0;
    }
    return tail;
  }

  /** Sorts and dedupes the (tail, state) pairs, and returns their configuration. */
  private internConfiguration(pairs: number[]): number {
    const count = pairs.length / 2;
    if (count > 1) sortPairs(pairs);
    if (this.scratch.length < pairs.length) this.scratch = new Int32Array(2 * pairs.length);
    const items = this.scratch;
    let length = 0;
    for (let i = 0; i < pairs.length; i += 2) {
      if (length > 0 && items[length - 2] === pairs[i] && items[length - 1] === pairs[i + 1]) continue;
      items[length++] = pairs[i];
      items[length++] = pairs[i + 1];
    }
    if (length / 2 > this.limits.maxStacks) {
      throw new GrammarError(`the grammar is too ambiguous: more than ${this.limits.maxStacks} ways to read the text at once`);
    }
    const known = this.configs.size;
    const id = this.configs.intern(items, length);
    if (id === known) {
      if (known >= this.limits.maxConfigurations)
        throw new GrammarError(`the grammar needs more than ${this.limits.maxConfigurations} automaton states to follow`);
      this.transitions.addState(id);
      if (id >= this.configAccepts.length) this.configAccepts = grownBytes(this.configAccepts, 2 * this.configAccepts.length);
      let accepts = 0;
      for (let i = 0; i < length && accepts === 0; i += 2) {
        if (this.tailAccepts[items[i]] === 1 && this.topAccepts(items[i + 1])) accepts = 1;
      }
      this.configAccepts[id] = accepts;
    }
    return id;
  }

  /**
   * No rule may match the empty text or call itself (through others) before reading a byte. The
   * start rule may match it (a generation that may end at once) when no rule calls it.
   */
  private checkRules(): void {
    const { parts, dfa } = this;
    const ruleCount = parts.starts.length;
    const { kind, edgeStart, edges } = dfa.nfa;
    const startState = this.ruleStart[parts.start];
    if (startState !== DEAD && dfa.accepting(startState)) {
      for (let m = 0; m < kind.length; m++) {
        if (kind[m] === CALL_STATE && edges[edgeStart[m]] === parts.start)
          throw new GrammarError(`rule ${parts.names[parts.start]} can match the empty text`);
      }
    }
    const firstCalls: number[][] = Array.from({ length: ruleCount + this.lexemes.length }, (_, rule) => {
      if (rule >= ruleCount) return [];
      const start = this.ruleStart[rule];
      if (start === DEAD) return [];
      if (dfa.accepting(start) && rule !== parts.start) throw new GrammarError(`rule ${parts.names[rule]} can match the empty text`);
      return [...dfa.members(start)].filter((m) => kind[m] === CALL_STATE).map((m) => edges[edgeStart[m]]);
    });
    const color = new Uint8Array(ruleCount + this.lexemes.length);
    const visit = (rule: number): void => {
      color[rule] = 1;
      for (const callee of firstCalls[rule]) {
        if (color[callee] === 1) throw new GrammarError(`rule ${parts.names[callee]} calls itself before reading any text`);
        if (color[callee] === 0) visit(callee);
      }
      color[rule] = 2;
    };
    for (let rule = 0; rule < ruleCount; rule++) if (color[rule] === 0) visit(rule);
  }
}

/** The DFA of a counted lexeme's unit, checked to be prefix-free and never empty. */
function countedUnit(lexeme: CountedLexeme): { unit: ExplicitDfa; min: number; max: number } {
  const unit = determinize(lexeme.unit, 1 << 16);
  if (unit.start < 0 || unit.accepting[unit.start] === 1) throw new GrammarError('a counted unit must match some non-empty text');
  for (let s = 0; s < unit.stateCount; s++) {
    if (unit.accepting[s] === 1 && unit.next.subarray(s * unit.classCount, (s + 1) * unit.classCount).some((t) => t >= 0)) {
      throw new GrammarError('a counted unit must be prefix-free (one character, say)');
    }
  }
  if (unit.stateCount > 0xffff) throw new GrammarError('a counted unit is too large');
  return { unit, min: lexeme.min, max: lexeme.max };
}

function shared<T extends Uint8Array | Int32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/** Sorts a flat list of (a, b) pairs by a, then b. Lists are short: insertion sort. */
function sortPairs(pairs: number[]): void {
  for (let i = 2; i < pairs.length; i += 2) {
    const a = pairs[i];
    const b = pairs[i + 1];
    let j = i - 2;
    while (j >= 0 && (pairs[j] > a || (pairs[j] === a && pairs[j + 1] > b))) {
      pairs[j + 2] = pairs[j];
      pairs[j + 3] = pairs[j + 1];
      j -= 2;
    }
    pairs[j + 2] = a;
    pairs[j + 3] = b;
  }
}
