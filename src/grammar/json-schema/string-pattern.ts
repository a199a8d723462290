// `pattern` as the language of the decoded strings it matches. JSON Schema patterns are searches,
// not full matches: an unanchored end takes any text.
import type { RegexNode } from '../regex/ast.js';
import { g } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { parseRegex } from '../regex/parse.js';
import { SchemaError } from './schema-error.js';

/**
 * A pattern as the language of the decoded strings it matches (ECMAScript semantics: a search, so
 * unanchored ends take any text). An anchor inside an alternation is read as a full match of the
 * whole, which is narrower: then `exact` is false.
 */
export function patternLanguageNode(pattern: unknown, path: string): { node: GrammarNode; exact: boolean } {
  if (typeof pattern !== 'string') throw new SchemaError('pattern must be a string', path);
  let tree: RegexNode;
  try {
    tree = parseRegex(pattern);
  } catch (error) {
    throw new SchemaError(`pattern is not supported: ${(error as Error).message}`, path);
  }
  const hasAnchor = /[\^$]/.test(pattern);
  if (hasAnchor && pattern.includes('|')) return { node: tree, exact: false };
  const anchoredStart = pattern.startsWith('^');
  const anchoredEnd = /(^|[^\\])(\\\\)*\$$/.test(pattern);
  const anyText = g.repeat(g.chars([[0, 0x10ffff]]), 0, Infinity);
  return { node: g.seq(anchoredStart ? g.EMPTY : anyText, tree, anchoredEnd ? g.EMPTY : anyText), exact: true };
}
