// The ways JSON writers spell a character inside a string: raw (when it needs no escape), a short
// escape (\n, \", \/, ...), or \uXXXX in either case of hex digits (a surrogate pair of them for
// characters beyond U+FFFF) for control characters, `"`, `\` and every non-ASCII character (Python's
// json.dumps writes those so). Printable ASCII is spelled raw only: a \u escape of a letter is
// legal JSON that no writer produces, and leaving it out keeps automata small (a sound narrowing).
import { g } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { type CodePointSet, intersection } from '../regex/code-point-set.js';
import { type Charged, compileStep, sharedWork } from '../deadline.js';

/** Characters a string holds raw in JSON (the others need an escape). */
export const PLAIN_SET: CodePointSet = [
  [0x20, 0x21],
  [0x23, 0x5b],
  [0x5d, 0x10ffff],
];

const SHORT_ESCAPES: readonly [number, string][] = [
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x08, 'b'],
  [0x0c, 'f'],
  [0x0a, 'n'],
  [0x0d, 'r'],
  [0x09, 't'],
];

/** Short escapes only (no \\u): how undeclared keys may spell a character next to declared names. */
export function rawOrShortEscape(set: CodePointSet): GrammarNode {
  const options: GrammarNode[] = [g.chars(intersection(set, PLAIN_SET))];
  for (const [codePoint, letter] of SHORT_ESCAPES) {
    if (set.some(([lo, hi]) => codePoint >= lo && codePoint <= hi)) options.push(g.literal(`\\${letter}`));
  }
  return g.alt(...options);
}

/** The JSON spellings of the characters of `set`. */
function spellings(set: CodePointSet): GrammarNode {
  if (set.length === 0) return g.NOTHING;
  const options: GrammarNode[] = [g.chars(intersection(set, PLAIN_SET))];
  for (const [codePoint, letter] of SHORT_ESCAPES) {
    if (set.some(([lo, hi]) => codePoint >= lo && codePoint <= hi)) options.push(g.literal(`\\${letter}`));
  }
  const escapable = intersection(set, [
    [0, 0x1f],
    [0x22, 0x22],
    [0x5c, 0x5c],
    [0x7f, 0x10ffff],
  ]);
  const bmp = intersection(escapable, [[0, 0xffff]]);
  if (bmp.length > 0) options.push(g.seq(g.literal('\\u'), hexRanges(bmp)));
  const astral = intersection(escapable, [[0x10000, 0x10ffff]]);
  if (astral.length > 0) options.push(surrogatePairs(astral));
  return g.alt(...options);
}

/** A decoded-text node (a regex over characters) as the node of its JSON string content. */
export function jsonContent(node: GrammarNode): GrammarNode {
  switch (node.type) {
    case 'empty':
      return node;
    case 'chars':
      return spellings(node.set);
    case 'sequence':
      return g.seq(...node.items.map(jsonContent));
    case 'alternation':
      return g.alt(...node.options.map(jsonContent));
    case 'repeat':
      return g.repeat(jsonContent(node.item), node.min, node.max);
    case 'counted':
      return g.counted(jsonContent(node.unit), node.min, node.max);
    case 'group':
      return jsonContent(node.item);
    case 'dfa':
    case 'call':
    case 'members':
    case 'list':
      throw new Error(`no JSON spelling for a ${node.type} node`);
  }
}

/** The text of `text` with each character spelled every way JSON allows. */
export function jsonLiteralContent(text: string): GrammarNode {
  compileStep();
  const parts: GrammarNode[] = [];
  let raw = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (spelledRawOnly(codePoint)) {
      raw += char;
      continue;
    }
    if (raw) parts.push(g.literal(raw));
    raw = '';
    parts.push(spellingsOf(codePoint));
  }
  if (raw) parts.push(g.literal(raw));
  return g.seq(...parts);
}

/** Printable ASCII but `"`, `\` and `/` (which has the short escape `\/`) has one spelling: itself. */
function spelledRawOnly(codePoint: number): boolean {
  return codePoint >= 0x20 && codePoint < 0x7f && codePoint !== 0x22 && codePoint !== 0x5c && codePoint !== 0x2f;
}

const spellingsOfCodePoint = new Map<number, Charged<GrammarNode>>();

function spellingsOf(codePoint: number): GrammarNode {
  if (spellingsOfCodePoint.size >= 4096) spellingsOfCodePoint.clear();
  return sharedWork(spellingsOfCodePoint, codePoint, () => spellings([[codePoint, codePoint]]));
}

const HEX_DIGIT = [
  [0x30, 0x39],
  [0x41, 0x46],
  [0x61, 0x66],
] as const;

function hexDigit(lo: number, hi: number): GrammarNode {
  const ranges: [number, number][] = [];
  const digits = Math.max(lo, 0);
  for (let d = digits; d <= Math.min(hi, 9); d++) ranges.push([0x30 + d, 0x30 + d]);
  for (let d = Math.max(lo, 10); d <= Math.min(hi, 15); d++) ranges.push([0x41 + d - 10, 0x41 + d - 10], [0x61 + d - 10, 0x61 + d - 10]);
  return g.chars(normalizeRanges(ranges));
}

function normalizeRanges(ranges: [number, number][]): CodePointSet {
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

/** Four hex digits (either case) whose value is in one of the ranges (all within 0..0xFFFF). */
function hexRanges(set: CodePointSet): GrammarNode {
  return g.alt(...set.map(([lo, hi]) => hexRange(lo, hi, 4)));
}

/** `width` hex digits with a value in [lo, hi], digit by digit (as decimal ranges are built). */
function hexRange(lo: number, hi: number, width: number): GrammarNode {
  if (width === 0) return g.EMPTY;
  const unit = 16 ** (width - 1);
  const loDigit = Math.floor(lo / unit);
  const hiDigit = Math.floor(hi / unit);
  const loRest = lo % unit;
  const hiRest = hi % unit;
  if (loDigit === hiDigit) return g.seq(hexDigit(loDigit, loDigit), hexRange(loRest, hiRest, width - 1));
  const full = (from: number, to: number) => (from > to ? g.NOTHING : g.seq(hexDigit(from, to), g.repeat(anyHex(), width - 1, width - 1)));
  const options: GrammarNode[] = [];
  let first = loDigit;
  if (loRest !== 0) {
    options.push(g.seq(hexDigit(loDigit, loDigit), hexRange(loRest, unit - 1, width - 1)));
    first++;
  }
  let last = hiDigit;
  if (hiRest !== unit - 1) {
    options.push(g.seq(hexDigit(hiDigit, hiDigit), hexRange(0, hiRest, width - 1)));
    last--;
  }
  options.push(full(first, last));
  return g.alt(...options);
}

function anyHex(): GrammarNode {
  return g.chars(HEX_DIGIT as unknown as CodePointSet);
}

/** \uD8xx\uDCxx pairs spelling the astral characters of `set`. */
function surrogatePairs(set: CodePointSet): GrammarNode {
  const options: GrammarNode[] = [];
  for (const [lo, hi] of set) {
    // Group by high surrogate: characters c have high 0xD800 + ((c - 0x10000) >> 10), low 0xDC00 + (c & 0x3FF).
    const firstHigh = (lo - 0x10000) >> 10;
    const lastHigh = (hi - 0x10000) >> 10;
    for (let high = firstHigh; high <= lastHigh;) {
      const from = high === firstHigh ? (lo - 0x10000) & 0x3ff : 0;
      const to = high === lastHigh ? (hi - 0x10000) & 0x3ff : 0x3ff;
      // Whole blocks of highs with every low: one range of highs.
      if (from === 0 && to === 0x3ff) {
        let end = high;
        while (end + 1 < lastHigh || (end + 1 === lastHigh && ((hi - 0x10000) & 0x3ff) === 0x3ff)) end++;
        options.push(g.seq(g.literal('\\u'), hexRange(0xd800 + high, 0xd800 + end, 4), g.literal('\\u'), hexRange(0xdc00, 0xdfff, 4)));
        high = end + 1;
        continue;
      }
      options.push(
        g.seq(g.literal('\\u'), hexRange(0xd800 + high, 0xd800 + high, 4), g.literal('\\u'), hexRange(0xdc00 + from, 0xdc00 + to, 4)),
      );
      high++;
    }
  }
  return g.alt(...options);
}
