// Bounds on the work one pattern may cause: patterns come from requests, so none of them may cost
// unbounded time or memory at compile time or while decoding.

export interface RegexLimits {
  /** Code points in the pattern. */
  maxPatternLength: number;
  /** The largest count in `{m}`, `{m,}` and `{m,n}`. */
  maxRepetition: number;
  /** Groups nested inside one another; every pass over the syntax tree recurses this deep. */
  maxNesting: number;
  /** States of the byte NFA, after `{m,n}` has expanded its copies. */
  maxNfaStates: number;
  /** DFA states whose transitions are cached; see RegexAutomaton for what happens beyond. */
  maxCachedStates: number;
  /** Cells of the transition cache (cached states x byte classes), to bound its memory. */
  maxCachedCells: number;
  /**
   * DFA states made over the automaton's life. A pattern whose DFA blows up (`(a|b)*a(a|b){20}`)
   * would otherwise make new states at every mask walk, costing the engine thread time and memory:
   * beyond this, `next` throws RegexError and the request using it fails alone.
   */
  maxStates: number;
}

export const DEFAULT_REGEX_LIMITS: Readonly<RegexLimits> = Object.freeze({
  maxPatternLength: 10_000,
  maxRepetition: 1_000,
  maxNesting: 128,
  maxNfaStates: 100_000,
  maxCachedStates: 50_000,
  maxCachedCells: 1 << 22,
  maxStates: 50_000,
});
