// Smart constructors for grammar rule bodies: regex syntax trees (../regex/ast) that may also call
// other rules. They keep trees small and honest: a part that can match nothing makes its sequence
// match nothing and drops out of its alternation, so no path of a built tree leads to a dead end.
import type { MemberItem, RegexNode } from '../regex/ast.js';
import type { CodePointSet } from '../regex/code-point-set.js';
import { parseRegex } from '../regex/parse.js';

export type GrammarNode = RegexNode;

export const EMPTY: GrammarNode = Object.freeze({ type: 'empty' });
/** Matches nothing at all (an empty character set). */
export const NOTHING: GrammarNode = Object.freeze({ type: 'chars', set: [] });

export function isNothing(node: GrammarNode): boolean {
  return node.type === 'chars' && node.set.length === 0;
}

export function chars(set: CodePointSet): GrammarNode {
  return set.length === 0 ? NOTHING : { type: 'chars', set };
}

/** The code points of `text`, one after the other. */
export function literal(text: string): GrammarNode {
  const items: GrammarNode[] = [];
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    items.push({ type: 'chars', set: [[codePoint, codePoint]] });
  }
  return seq(...items);
}

export function seq(...items: GrammarNode[]): GrammarNode {
  const flat: GrammarNode[] = [];
  for (const item of items) {
    if (isNothing(item)) return NOTHING;
    if (item.type === 'empty') continue;
    if (item.type === 'sequence') flat.push(...item.items);
    else flat.push(item);
  }
  if (flat.length === 0) return EMPTY;
  return flat.length === 1 ? flat[0] : { type: 'sequence', items: flat };
}

export function alt(...options: GrammarNode[]): GrammarNode {
  const flat: GrammarNode[] = [];
  for (const option of options) {
    if (isNothing(option)) continue;
    if (option.type === 'alternation') flat.push(...option.options);
    else flat.push(option);
  }
  if (flat.length === 0) return NOTHING;
  return flat.length === 1 ? flat[0] : { type: 'alternation', options: flat };
}

export function repeat(item: GrammarNode, min: number, max: number): GrammarNode {
  if (max < min) return NOTHING;
  if (max === 0 || item.type === 'empty') return EMPTY;
  if (isNothing(item)) return min === 0 ? EMPTY : NOTHING;
  if (min === 1 && max === 1) return item;
  return { type: 'repeat', item, min, max, lazy: false };
}

export function optional(item: GrammarNode): GrammarNode {
  return repeat(item, 0, 1);
}

/**
 * Members in order (see RegexNode 'members'): optional items that match nothing drop out, and a
 * required one that matches nothing makes the whole list match nothing.
 */
export function members(
  items: readonly MemberItem[],
  separator: GrammarNode,
  extra: GrammarNode | undefined,
  minCount = 0,
  maxCount = Infinity,
  witness?: GrammarNode,
): GrammarNode {
  if (witness !== undefined && isNothing(witness)) return NOTHING;
  const kept: MemberItem[] = [];
  for (const item of items) {
    if (isNothing(item.node)) {
      if (item.required) return NOTHING;
      continue;
    }
    kept.push(item);
  }
  const usableExtra = extra !== undefined && !isNothing(extra) ? extra : undefined;
  const required = kept.filter((item) => item.required).length;
  if (required > maxCount || minCount > maxCount) return NOTHING;
  if (usableExtra === undefined && kept.length < minCount) return NOTHING;
  if (kept.length === 0 && usableExtra === undefined && witness === undefined) return minCount === 0 ? EMPTY : NOTHING;
  return { type: 'members', items: kept, separator, extra: usableExtra, minCount, maxCount, witness };
}

/** `unit` (prefix-free: one character, say) repeated min to max times, counted instead of copied. */
export function counted(unit: GrammarNode, min: number, max: number): GrammarNode {
  if (max < min) return NOTHING;
  if (max === 0) return EMPTY;
  if (isNothing(unit)) return min === 0 ? EMPTY : NOTHING;
  if (max === Infinity || max <= 16) return repeat(unit, min, max);
  return { type: 'counted', unit, min, max };
}

export function call(rule: number): GrammarNode {
  return { type: 'call', rule };
}

/** A pattern of the regex dialect as a tree. Throws RegexError for what the dialect refuses. */
export function pattern(source: string): GrammarNode {
  return parseRegex(source);
}
