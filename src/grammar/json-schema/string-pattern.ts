// `pattern` as the content of a JSON string. The user's pattern matches the decoded string, while
// the regex constrains its JSON text; the two agree on characters JSON never escapes. So every
// character set of the pattern is narrowed to those characters (a string needing an escape, such
// as one holding a quote, is then not generated: sound, slightly incomplete), and the narrowed
// tree is printed back. JSON Schema patterns are searches, not full matches: an unanchored end
// gets any plain characters.
import type { RegexNode } from '../regex/ast.js';
import { g } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { complement, type CodePointSet, union } from '../regex/code-point-set.js';
import { parseRegex } from '../regex/parse.js';
import { DEFAULT_REGEX_LIMITS, RegexAutomaton } from '../regex/index.js';
import { PLAIN_CHAR } from './json-string.js';
import { group, hexCodePoint, NEVER } from './regex-text.js';
import { SchemaError } from './schema-error.js';

const NEEDS_ESCAPE: CodePointSet = [[0, 0x1f], [0x22, 0x22], [0x5c, 0x5c]];

export function patternContent(pattern: unknown, path: string): string {
  if (typeof pattern !== 'string') throw new SchemaError('pattern must be a string', `${path}/pattern`);
  let tree: RegexNode;
  try {
    tree = parseRegex(pattern);
  } catch (error) {
    throw new SchemaError(`pattern is not supported: ${(error as Error).message}`, `${path}/pattern`);
  }
  const core = group(print(tree, 0, path));
  // Anchors are only accepted at the ends of top-level alternatives; with an alternation, a full
  // match of the whole (always sound) is all we offer.
  const hasAnchor = /[\^$]/.test(pattern);
  if (hasAnchor && pattern.includes('|')) return core;
  const anchoredStart = pattern.startsWith('^');
  const anchoredEnd = /(^|[^\\])(\\\\)*\$$/.test(pattern);
  return `${anchoredStart ? '' : `${PLAIN_CHAR}*`}${core}${anchoredEnd ? '' : `${PLAIN_CHAR}*`}`;
}

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

/**
 * Whether some string in `names` might match `pattern` as a search (ECMAScript semantics). Errs
 * towards true: anchors are dropped, which only widens what matches. Linear time, unlike RegExp.
 */
export function mayMatchSomeName(pattern: unknown, names: readonly string[], path: string): boolean {
  if (typeof pattern !== 'string') throw new SchemaError('a patternProperties key must be a string', path);
  let tree: RegexNode;
  try {
    tree = parseRegex(pattern);
  } catch (error) {
    throw new SchemaError(`pattern is not supported: ${(error as Error).message}`, path);
  }
  let search: RegexAutomaton;
  try {
    search = RegexAutomaton.compile(`[\\s\\S]*(?:${print(tree, 0, path, (set) => set)})[\\s\\S]*`);
  } catch (error) {
    throw new SchemaError(`pattern is not supported: ${(error as Error).message}`, path);
  }
  return names.some((name) => search.matches(name));
}

function print(node: RegexNode, depth: number, path: string, narrow: (set: CodePointSet) => CodePointSet = toPlain): string {
  if (depth > DEFAULT_REGEX_LIMITS.maxNesting) throw new SchemaError('pattern is nested too deeply', `${path}/pattern`);
  switch (node.type) {
    case 'empty':
      return '';
    case 'chars':
      return printSet(narrow(node.set));
    case 'sequence':
      return node.items.map((item) => group(print(item, depth + 1, path, narrow))).join('');
    case 'alternation':
      return node.options.map((option) => print(option, depth + 1, path, narrow)).join('|');
    case 'repeat': {
      const max = node.max === Infinity ? '' : String(node.max);
      return `${group(print(node.item, depth + 1, path, narrow))}{${node.min},${max}}`;
    }
    case 'group':
      return print(node.item, depth + 1, path, narrow);
    case 'call':
    case 'members':
    case 'list':
    case 'counted':
    case 'dfa':
      throw new Error('a pattern has no grammar nodes');
  }
}

function toPlain(set: CodePointSet): CodePointSet {
  return complement(union(complement(set), NEEDS_ESCAPE));
}

function printSet(set: CodePointSet): string {
  if (set.length === 0) return NEVER;
  return `[${set.map(([lo, hi]) => (lo === hi ? hexCodePoint(lo) : `${hexCodePoint(lo)}-${hexCodePoint(hi)}`)).join('')}]`;
}
