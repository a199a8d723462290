// Random regular expressions from the supported subset, printed so that JavaScript's u-flag syntax
// and our parser read them alike, each with an arbitrary of strings biased toward its language:
// members built from the pattern's own pieces, their mutations, and noise over its alphabet.
import fc from 'fast-check';

export interface PatternCase {
  pattern: string;
  strings: string[];
}

/** A quantified piece may be concatenated as it is, but must be grouped to be quantified again. */
type Kind = 'atom' | 'quantified' | 'sequence' | 'alternation';

interface Piece {
  text: string;
  kind: Kind;
  /** Strings the piece matches, mostly (a negated class only filters a pool). */
  member: fc.Arbitrary<string>;
}

/** Characters the patterns and strings are made of: ASCII, multi-byte, combining, line breaks. */
const ALPHABET = [
  'a',
  'b',
  'c',
  'x',
  '0',
  '9',
  '_',
  '-',
  '.',
  ' ',
  '\n',
  '\r',
  'é',
  'α',
  'ω',
  '中',
  '😀',
  '\u0301',
  '\u2028',
  '\u00a0',
  '\t',
  '*',
  '[',
  ']',
  '{',
  '}',
  '\\',
  '^',
  '$',
  '|',
  '(',
  ')',
  '?',
  '+',
  '/',
];
const EXTRA = ['A', 'Z', 'z', 'ß', 'λ', '語', '😃', '🙂', '\u3000', '\ufeff', '٣', '\u0000', '\u{10ffff}', '\u{1f600}'];
const POOL = [...ALPHABET, ...EXTRA];
const SYNTAX = '^$\\.*+?()[]{}|/';
const CLASS_SPECIAL = '\\]^-[';
const CLASS_ESCAPES = ['\\d', '\\D', '\\w', '\\W', '\\s', '\\S'];
const ESCAPES = [
  ...CLASS_ESCAPES,
  '\\n',
  '\\t',
  '\\r',
  '\\f',
  '\\v',
  '\\.',
  '\\x41',
  '\\xe9',
  '\\u00e9',
  '\\u4e2d',
  '\\u{1F600}',
  '\\u{61}',
  '\\uD83D\\uDE00',
];
const QUANTIFIERS = ['*', '+', '?', '{0}', '{1}', '{2}', '{0,2}', '{1,3}', '{2,}', '{0,}'];
const NAME_PLACEHOLDER = '(?<NAME>';
const MAX_STRING_LENGTH = 8;

const codePoint = fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff);

function poolMember(text: string): fc.Arbitrary<string> {
  const test = new RegExp(`^(?:${text})$`, 'u');
  const members = POOL.filter((c) => test.test(c));
  return members.length > 0 ? fc.constantFrom(...members) : fc.constantFrom(...POOL);
}

function escapeOutside(c: string): string {
  return SYNTAX.includes(c) ? `\\${c}` : c;
}

function escapeInClass(c: string): string {
  if (CLASS_SPECIAL.includes(c)) return `\\${c}`;
  const point = c.codePointAt(0)!;
  return point < 0x20 || (point >= 0x7f && point <= 0xa0) || point >= 0xe000 ? `\\u{${point.toString(16)}}` : c;
}

const literal: fc.Arbitrary<Piece> = fc
  .constantFrom(...ALPHABET)
  .map((c) => ({ text: escapeOutside(c), kind: 'atom', member: fc.constant(c) }));
const escape: fc.Arbitrary<Piece> = fc.constantFrom(...ESCAPES).map((text) => ({ text, kind: 'atom', member: poolMember(text) }));
const dot: fc.Arbitrary<Piece> = fc.constant({ text: '.', kind: 'atom', member: poolMember('.') });

const classItem: fc.Arbitrary<{ text: string; member: fc.Arbitrary<string> }> = fc.oneof(
  fc.constantFrom(...POOL).map((c) => ({ text: escapeInClass(c), member: fc.constant(c) })),
  fc.constantFrom(...CLASS_ESCAPES).map((text) => ({ text, member: poolMember(text) })),
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...POOL).map((c) => c.codePointAt(0)!),
        codePoint,
      ),
      fc.oneof(
        fc.constantFrom(...POOL).map((c) => c.codePointAt(0)!),
        codePoint,
      ),
    )
    .map(([a, b]) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const text = `${escapeInClass(String.fromCodePoint(lo))}-${escapeInClass(String.fromCodePoint(hi))}`;
      const member = fc.integer({ min: lo, max: hi }).map((c) => String.fromCodePoint(c >= 0xd800 && c <= 0xdfff ? lo : c));
      return { text, member };
    }),
);

const characterClass: fc.Arbitrary<Piece> = fc
  .tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 4 }))
  .map(([negated, items]) => {
    const text = `[${negated ? '^' : ''}${items.map((item) => item.text).join('')}]`;
    return { text, kind: 'atom', member: negated ? poolMember(text) : fc.oneof(...items.map((item) => item.member)) };
  });

function grouped(piece: Piece): string {
  return piece.kind === 'atom' ? piece.text : `(?:${piece.text})`;
}

const pieces = fc.letrec<{ node: Piece; atom: Piece; quantified: Piece; sequence: Piece; alternation: Piece; group: Piece }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'regex' },
    tie('atom'),
    tie('quantified'),
    tie('sequence'),
    tie('alternation'),
    tie('group'),
  ),
  atom: fc.oneof(literal, literal, escape, dot, characterClass),
  quantified: fc.tuple(tie('node'), fc.constantFrom(...QUANTIFIERS), fc.boolean()).map(([item, quantifier, lazy]) => {
    const [, min, max] = /^\{(\d+)(?:,(\d*))?\}$/.exec(quantifier) ?? [];
    const bounds = { '*': [0, 3], '+': [1, 4], '?': [0, 1] }[quantifier] ?? [
      Number(min),
      max === undefined ? Number(min) : max === '' ? Number(min) + 3 : Number(max),
    ];
    const member = fc.array(item.member, { minLength: bounds[0], maxLength: bounds[1] }).map((parts) => parts.join(''));
    return { text: `${grouped(item)}${quantifier}${lazy ? '?' : ''}`, kind: 'quantified', member };
  }),
  sequence: fc.array(tie('node'), { maxLength: 4 }).map((items): Piece => {
    if (items.length === 1) return items[0];
    const text = items.map((item) => (item.kind === 'alternation' ? `(?:${item.text})` : item.text)).join('');
    return { text, kind: 'sequence', member: fc.tuple(...items.map((item) => item.member)).map((parts) => parts.join('')) };
  }),
  alternation: fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((options) => ({
    text: options.map((option) => option.text).join('|'),
    kind: 'alternation',
    member: fc.oneof(...options.map((option) => option.member)),
  })),
  group: fc
    .tuple(tie('node'), fc.constantFrom('(', '(?:', NAME_PLACEHOLDER))
    .map(([item, open]) => ({ text: `${open}${item.text})`, kind: 'atom', member: item.member })),
}));

function numberGroupNames(text: string): string {
  let next = 0;
  return text.replaceAll(NAME_PLACEHOLDER, () => `(?<g${next++}>`);
}

const noise = fc.oneof(
  fc.array(fc.constantFrom(...POOL), { maxLength: 8 }).map((chars) => chars.join('')),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

/** A pattern (maybe with ^ and $ at its ends) and strings to try it on. */
export const patternCases: fc.Arbitrary<PatternCase> = fc.tuple(pieces.node, fc.boolean(), fc.boolean()).chain(([piece, caret, dollar]) => {
  const body = numberGroupNames(piece.text);
  // Unwrapped, so that ^ and $ also bound the first and last alternatives of a top-level |.
  const pattern = `${caret ? '^' : ''}${body}${dollar ? '$' : ''}`;
  const mutated = fc.tuple(piece.member, fc.nat(), fc.constantFrom(...POOL)).map(([s, at, c]) => {
    const chars = [...s];
    const i = chars.length === 0 ? 0 : at % chars.length;
    return at % 3 === 0 ? [...chars.slice(0, i), ...chars.slice(i + 1)].join('') : [...chars.slice(0, i), c, ...chars.slice(i)].join('');
  });
  const candidates = fc.oneof(
    piece.member,
    piece.member,
    mutated,
    fc.tuple(piece.member, piece.member).map(([a, b]) => a + b),
    noise,
  );
  // Short strings keep JavaScript's backtracking on nested quantifiers from taking exponential time.
  const strings = fc.array(
    candidates.map((s) => [...s].slice(0, MAX_STRING_LENGTH).join('')),
    { minLength: 6, maxLength: 6 },
  );
  return strings.map((list) => ({ pattern, strings: list }));
});
