// Regular expression -> lazy DFA over UTF-8 bytes: states are made by the subset construction the
// first time a transition reaches them, and each transition is computed once and then read from a
// flat table (one row per state, one column per byte class).
//
// Caching policy. A state id, once returned, stays valid for the automaton's life: callers hold
// ids across calls (a sequence's current state, the path of a trie walk), so states are never
// renumbered or forgotten. What is bounded is the transition cache: at most limits.maxCachedStates
// states (fewer when rows are wide, see maxCachedCells) have a row. When a state without one needs
// it and none is left, the whole cache is flushed and rebuilt on demand from the states' NFA sets,
// which are kept. Answers never change, only their cost. Memory beyond the cache grows with the
// distinct states callers actually reach (one sorted NFA set each); `stateCount` lets a caller
// watch it.
import { type ByteAutomaton, DEAD } from '../automaton.js';
import { type ByteClasses, byteClasses } from './byte-classes.js';
import { grownBytes, InternedSets } from './interned-sets.js';
import { TransitionTable } from '../transition-table.js';
import { DEFAULT_REGEX_LIMITS, type RegexLimits } from './limits.js';
import { buildNfa, MATCH_STATE, type Nfa } from './nfa.js';
import { parseRegex } from './parse.js';
import { SubsetStepper } from './subset.js';
import { RegexError } from './error.js';

const LONE_SURROGATE = /[\ud800-\udfff]/u;
const utf8 = new TextEncoder();

export class RegexAutomaton implements ByteAutomaton {
  readonly start: number;
  private readonly classes: ByteClasses;
  private readonly classOf: Uint8Array;
  private readonly stepper: SubsetStepper;
  private readonly sets = new InternedSets();
  private readonly maxStates: number;
  private accepts = new Uint8Array(64);
  private readonly transitions: TransitionTable;

  private constructor(
    readonly nfa: Nfa,
    limits: RegexLimits,
  ) {
    this.classes = byteClasses(nfa);
    this.classOf = this.classes.classOf;
    this.stepper = new SubsetStepper(nfa);
    this.maxStates = limits.maxStates;
    this.transitions = new TransitionTable(this.classes.count, limits);
    this.stepper.closureOf(nfa.start);
    this.start = this.internResult();
  }

  /** Compiles `pattern` as a full-match constraint. Throws RegexError for what cannot be compiled. */
  static compile(pattern: string, limits: Partial<RegexLimits> = {}): RegexAutomaton {
    const bounds = { ...DEFAULT_REGEX_LIMITS, ...limits };
    return new RegexAutomaton(buildNfa(parseRegex(pattern, bounds), bounds), bounds);
  }

  /** The lazy DFA of an NFA built elsewhere (a grammar's: its call states are members like byte states). */
  static fromNfa(nfa: Nfa, limits: Partial<RegexLimits> = {}): RegexAutomaton {
    return new RegexAutomaton(nfa, { ...DEFAULT_REGEX_LIMITS, ...limits });
  }

  /** The state standing for the union of the closures of `nfaStates`, or DEAD when that is empty. */
  stateOf(nfaStates: readonly number[]): number {
    this.stepper.closureOfAll(nfaStates);
    return this.internResult();
  }

  /** The NFA states (byte, call and match states) that DFA state `state` stands for, ascending. */
  members(state: number): Int32Array {
    return this.sets.members(state);
  }

  /** The byte classes of the transition table: bytes of one class lead every state alike. */
  get byteClasses(): ByteClasses {
    return this.classes;
  }

  get byteClassOf(): Uint8Array {
    return this.classOf;
  }

  next(state: number, byte: number): number {
    const target = this.transitions.lookup(state, this.classOf[byte]);
    // Also false for undefined, read past the arrays when state or byte is out of range.
    return target >= DEAD ? target : this.computeNext(state, byte);
  }

  accepting(state: number): boolean {
    return state >= 0 && this.accepts[state] === 1;
  }

  /** Whether the whole of `text` matches. Text with a lone surrogate has no UTF-8 form and never matches. */
  matches(text: string): boolean {
    if (LONE_SURROGATE.test(text)) return false;
    let state = this.start;
    for (const byte of utf8.encode(text)) {
      if (state === DEAD) return false;
      state = this.next(state, byte);
    }
    return this.accepting(state);
  }

  /** DFA states made so far (each keeps its NFA set for the automaton's life). */
  get stateCount(): number {
    return this.sets.size;
  }

  /** How many times the transition cache was full and was flushed. */
  get cacheFlushes(): number {
    return this.transitions.flushes;
  }

  private computeNext(state: number, byte: number): number {
    if (state === DEAD) return DEAD;
    if (!Number.isInteger(state) || state < 0 || state >= this.sets.size) throw new RangeError(`${state} is not a state of this automaton`);
    if (!Number.isInteger(byte) || byte < 0 || byte > 255) throw new RangeError(`${byte} is not a byte`);
    const byteClass = this.classOf[byte];
    this.stepper.step(this.sets.members(state), this.classes.representative[byteClass]);
    const target = this.internResult();
    this.transitions.store(state, byteClass, target);
    return target;
  }

  /** The DFA state of the stepper's last result, made if new; DEAD for the empty set. */
  private internResult(): number {
    const { result, resultLength } = this.stepper;
    if (resultLength === 0) return DEAD;
    const known = this.sets.size;
    const id = this.sets.intern(result, resultLength);
    if (id === known) {
      if (known >= this.maxStates)
        throw new RegexError(`the pattern needs more than ${this.maxStates} automaton states to follow; simplify it`);
      this.transitions.addState(id);
      if (id >= this.accepts.length) this.accepts = grownBytes(this.accepts, 2 * this.accepts.length);
      // The match state has no edges, so it is a member of any set that contains it.
      this.accepts[id] = result.subarray(0, resultLength).some((s) => this.nfa.kind[s] === MATCH_STATE) ? 1 : 0;
    }
    return id;
  }
}
