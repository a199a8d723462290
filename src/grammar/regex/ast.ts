// The syntax tree of a pattern. Only what decides the language survives parsing: escapes are
// resolved to code-point sets and anchors (no-ops under a full match) are gone.
import type { CodePointSet } from './code-point-set.js';
import type { ExplicitDfa } from './explicit-dfa.js';

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
  | { readonly type: 'call'; readonly rule: number }
  /**
   * Grammars only: an ordered selection of `items` (each required one always present) joined by
   * `separator`, with `extra` allowed any number of times anywhere among them, and between
   * `minCount` and `maxCount` members in all (extras counted). The members of a JSON object in
   * declared order, in an NFA linear in their number (a regex would repeat the tail of the list for
   * each choice of the first member, which has no separator before it).
   */
  | {
      readonly type: 'members';
      readonly items: readonly MemberItem[];
      readonly separator: RegexNode;
      readonly extra?: RegexNode;
      readonly minCount: number;
      readonly maxCount: number;
      /** A member that must appear at least once, anywhere among them (counted like an extra). */
      readonly witness?: RegexNode;
    }

  /**
   * Grammars only: the elements of a JSON array joined by `separator`: `prefix[i]` at position i,
   * `rest` after them (none when undefined), between `minCount` and `maxCount` elements. An element
   * may be `counted` (it counts towards [countMin, countMax], contains' count) or `plain`.
   */
  | {
      readonly type: 'list';
      readonly prefix: readonly ListElement[];
      readonly rest?: ListElement;
      readonly separator: RegexNode;
      readonly minCount: number;
      readonly maxCount: number;
      readonly countMin: number;
      readonly countMax: number;
    }
  /**
   * Grammars only: `unit` repeated between min and max times, followed by the pushdown automaton
   * with a counter instead of one NFA copy per repetition (a string of up to 32,767 characters).
   * The unit must be prefix-free (no match of it is a prefix of a longer one, as for one UTF-8
   * character or one JSON escape), so that the count is never in doubt. Outside grammars it
   * compiles as a plain repetition.
   */
  | { readonly type: 'counted'; readonly unit: RegexNode; readonly min: number; readonly max: number }
  /**
   * Grammars only: the byte strings an explicit DFA accepts. Every state of it must be able to
   * reach an accepting one (../regular trims them), so that no path leads to a dead end.
   */
  | { readonly type: 'dfa'; readonly dfa: ExplicitDfa };

interface ListElement {
  readonly plain?: RegexNode;
  readonly counted?: RegexNode;
}

export interface MemberItem {
  readonly node: RegexNode;
  readonly required: boolean;
}
