// The syntax tree of a pattern. Only what decides the language survives parsing: escapes are
// resolved to code-point sets and anchors (no-ops under a full match) are gone.
import type { CodePointSet } from './code-point-set.js';

export type RegexNode =
  /** Matches the empty string only: `()`, an empty alternative, `x{0}`. */
  | { readonly type: 'empty' }
  /** One code point from the set: a literal, `.`, an escape or a class. */
  | { readonly type: 'chars'; readonly set: CodePointSet }
  | { readonly type: 'sequence'; readonly items: readonly RegexNode[] }
  | { readonly type: 'alternation'; readonly options: readonly RegexNode[] }
  /** `max` is Infinity for `*`, `+` and `{m,}`. Laziness does not change what a full match accepts. */
  | { readonly type: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number; readonly lazy: boolean }
  | { readonly type: 'group'; readonly item: RegexNode; readonly capturing: boolean; readonly name?: string }
  /**
   * Grammars only (the pattern parser never makes one): the text of rule `rule` of the grammar,
   * followed by a pushdown automaton (see ../cfg).
   */
  | { readonly type: 'call'; readonly rule: number };
