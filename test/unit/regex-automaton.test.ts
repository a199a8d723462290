import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEAD } from '../../src/grammar/automaton.js';
import { RegexAutomaton, RegexError } from '../../src/grammar/regex/index.js';
import { patternCases } from '../helpers/regex-patterns.js';

const SEED = 20261202;

function walk(automaton: RegexAutomaton, bytes: ArrayLike<number>, from = automaton.start): number {
  let state = from;
  for (let i = 0; i < bytes.length; i++) state = automaton.next(state, bytes[i]);
  return state;
}

function javascriptMatches(pattern: string, text: string): boolean {
  return new RegExp(`^(?:${pattern})$`, 'u').test(text);
}

/** Each pattern with strings it accepts and strings it refuses. */
const CONSTRUCTS: [pattern: string, accepted: string[], rejected: string[]][] = [
  ['', [''], ['a', ' ']],
  ['abc', ['abc'], ['', 'ab', 'abcd', 'abd', 'ABC']],
  ['a|bc|', ['a', 'bc', ''], ['b', 'abc']],
  ['😀中e\u0301', ['😀中e\u0301'], ['😀中é', '😀中e', '😃中e\u0301']],
  // Escapes of the predefined classes, with ECMAScript's meaning.
  ['\\d+', ['0', '0123456789'], ['', 'a', '٣', '０']],
  ['\\D', ['a', '٣', '😀', '\n'], ['5']],
  ['\\w+', ['azAZ09_'], ['é', '-', ' ', 'α']],
  ['\\W', ['é', '-', '😀'], ['a', '_', '7']],
  [
    '\\s',
    [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'],
    ['a', '\u200b', '\u0085', ''],
  ],
  ['\\S', ['a', '\u200b', '😀'], [' ', '\u3000', '\n']],
  // Character escapes.
  ['\\n\\t\\r\\f\\v\\0', ['\n\t\r\f\v\0'], ['ntrfv0']],
  ['\\x41\\xe9', ['Aé'], ['x41xe9']],
  ['\\u00e9\\u4E2D', ['é中'], ['u00e9u4E2D']],
  ['\\u{1F600}\\u{61}', ['😀a'], ['😀', 'a']],
  ['\\uD83D\\uDE00', ['😀'], ['\uD83D']],
  ['\\U0001F600', ['😀'], ['U0001F600']],
  ['\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\/\\^\\$\\-', ['.*+?()[]{}|\\/^$-'], ['']],
  // `.`: any code point but the line terminators of JavaScript.
  ['.', ['a', ' ', '\t', '\0', 'é', '中', '😀', '\u0301', '\u{10ffff}'], ['\n', '\r', '\u2028', '\u2029', '', 'ab', 'e\u0301']],
  ['..', ['e\u0301', '😀😀'], ['😀']],
  // Classes.
  ['[abc]', ['a', 'b', 'c'], ['d', '', 'ab']],
  ['[a-z0-9]+', ['abc123'], ['A', 'é']],
  ['[α-ω]+', ['αβγω', 'λ'], ['Α', 'a', 'ϊ']],
  ['[^a-z]', ['A', '😀', '中', '\n', '\u0301'], ['a', 'q', '']],
  ['[一-龥]{2}', ['中文'], ['中', 'a中']],
  ['[\\u{1F600}-\\u{1F64F}]', ['😀', '🙏'], ['🚀', '中']],
  ['[-a]', ['-', 'a'], ['b']],
  ['[a-]', ['-', 'a'], ['b']],
  ['[a-c-e]', ['a', 'b', 'c', '-', 'e'], ['d']],
  ['[%--]', ['%', ',', '-'], ['$', '.']],
  ['[\\]\\\\\\-^[]', [']', '\\', '-', '^', '['], ['a']],
  ['[\\b]', ['\b'], ['b']],
  ['[\\d\\s]', ['5', ' '], ['a']],
  ['[^\\D]', ['5'], ['a']],
  ['[^\\s\\S]', [], ['', 'a', ' ', '😀']],
  ['[.$^*]', ['.', '$', '^', '*'], ['a']],
  ['[\\u0000-\\uFFFF]', ['a', '中', '\uffff'], ['😀']],
  // Quantifiers and their lazy forms (the same language for a full match).
  ['a*', ['', 'a', 'aaaa'], ['b', 'ab']],
  ['a+', ['a', 'aaa'], ['']],
  ['a?', ['', 'a'], ['aa']],
  ['a{3}', ['aaa'], ['aa', 'aaaa']],
  ['a{2,}', ['aa', 'aaaaaaa'], ['a']],
  ['a{1,3}', ['a', 'aa', 'aaa'], ['', 'aaaa']],
  ['a{,2}', ['', 'a', 'aa'], ['aaa']],
  ['a{0}b', ['b'], ['ab']],
  ['a*?b+?c??d{2}?e{1,}?f{1,2}?', ['bddef', 'aabbbcddeeeff'], ['bdde', 'bddefff']],
  ['(?:ab)*', ['', 'ab', 'abab'], ['aba']],
  ['(a|b)*abb', ['abb', 'babb', 'aaabb'], ['ab', 'abba']],
  ['😀{2}', ['😀😀'], ['😀']],
  ['(?:)*', [''], ['a']],
  // A { that opens no quantifier is a literal, as are lone ] and }.
  ['a{', ['a{'], ['a']],
  ['a{1,2', ['a{1,2'], ['a']],
  ['x{a}', ['x{a}'], ['x']],
  ['{a', ['{a'], ['a']],
  ['a}]', ['a}]'], ['a']],
  // Groups.
  ['(a)(?:b)(?<name>c)(?P<other>d)', ['abcd'], ['abc']],
  ['((a|b)(c|d))+', ['ac', 'bdad'], ['ab', '']],
  ['()', [''], ['a']],
  // Anchors at the ends are no-ops: the constraint is a full match.
  ['^abc$', ['abc'], ['xabc', 'abcx', '^abc$']],
  ['^a|b$', ['a', 'b'], ['ab', '']],
  ['^a$|^b$', ['a', 'b'], ['a$']],
  ['^$', [''], ['a']],
];

describe('regex automaton: every construct', () => {
  for (const [pattern, accepted, rejected] of CONSTRUCTS) {
    it(JSON.stringify(pattern), () => {
      const automaton = RegexAutomaton.compile(pattern);
      for (const text of accepted)
        assert.equal(automaton.matches(text), true, `${JSON.stringify(pattern)} should accept ${JSON.stringify(text)}`);
      for (const text of rejected)
        assert.equal(automaton.matches(text), false, `${JSON.stringify(pattern)} should refuse ${JSON.stringify(text)}`);
    });
  }

  it('agrees with JavaScript on every fixed case it can express', () => {
    const pythonOnly = new Set([
      '\\U0001F600',
      '(a)(?:b)(?<name>c)(?P<other>d)',
      'a{,2}',
      'a{',
      'a{1,2',
      'x{a}',
      '{a',
      'a}]',
      '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\/\\^\\$\\-',
    ]);
    for (const [pattern, accepted, rejected] of CONSTRUCTS) {
      if (pythonOnly.has(pattern)) continue;
      for (const text of [...accepted, ...rejected])
        assert.equal(
          RegexAutomaton.compile(pattern).matches(text),
          javascriptMatches(pattern, text),
          `${pattern} on ${JSON.stringify(text)}`,
        );
    }
  });

  it('text with a lone surrogate has no UTF-8 form and never matches', () => {
    assert.equal(RegexAutomaton.compile('.*').matches('a\ud800'), false);
    assert.equal(RegexAutomaton.compile('.*').matches('a\ud83d\ude00'), true);
  });
});

/** Pattern, message, position (absent for errors about the whole pattern). */
const ERRORS: [pattern: string, message: string, position?: number][] = [
  // Unsupported constructs.
  ['a\\b', 'word boundary \\b at position 1 is not supported', 1],
  ['\\Ba', 'non-word boundary \\B at position 0 is not supported', 0],
  ['a^b', 'anchor ^ at position 1 is not supported: ^ is accepted only at the start of the pattern', 1],
  ['(^a)', 'anchor ^ at position 1 is not supported: ^ is accepted only at the start of the pattern', 1],
  ['^^a', 'anchor ^ at position 1 is not supported: ^ is accepted only at the start of the pattern', 1],
  ['a$b', 'anchor $ at position 1 is not supported: $ is accepted only at the end of the pattern', 1],
  ['(a$)', 'anchor $ at position 2 is not supported: $ is accepted only at the end of the pattern', 2],
  ['a$$', 'anchor $ at position 1 is not supported: $ is accepted only at the end of the pattern', 1],
  ['\\Aa', 'anchor \\A at position 0 is not supported (the pattern always matches the whole text; ^ and $ are accepted at its ends)', 0],
  ['a\\Z', 'anchor \\Z at position 1 is not supported (the pattern always matches the whole text; ^ and $ are accepted at its ends)', 1],
  ['a(?=b)', 'lookahead (?= at position 1 is not supported', 1],
  ['a(?!b)', 'negative lookahead (?! at position 1 is not supported', 1],
  ['(?<=a)b', 'lookbehind (?<= at position 0 is not supported', 0],
  ['(?<!a)b', 'negative lookbehind (?<! at position 0 is not supported', 0],
  ['(a)\\1', 'backreference \\1 at position 3 is not supported', 3],
  ['(?<x>a)\\k<x>', 'backreference \\k at position 7 is not supported', 7],
  ['(?P<x>a)(?P=x)', 'backreference (?P= at position 8 is not supported', 8],
  ['(?i)a', 'inline flags (?i at position 0 is not supported', 0],
  ['(?i:a)', 'inline flags (?i at position 0 is not supported', 0],
  ['(?-s:a)', 'inline flags (?- at position 0 is not supported', 0],
  ['(?#note)a', 'comment group (?# at position 0 is not supported', 0],
  ['(?>a)', 'atomic group (?> at position 0 is not supported', 0],
  ['(?(1)a|b)', 'conditional group (?( at position 0 is not supported', 0],
  ['(?Qa)', 'unknown group syntax (?Q at position 0', 0],
  ['\\p{L}', 'Unicode property escape \\p at position 0 is not supported', 0],
  ['\\cJ', 'control escape \\c at position 0 is not supported', 0],
  ['\\01', 'octal escape \\01 at position 0 is not supported', 0],
  ['[\\1]', 'octal escape \\1 at position 1 is not supported', 1],
  // Malformed patterns.
  ['(ab', 'unbalanced parenthesis: ( at position 0 is not closed', 0],
  ['a(b(c)', 'unbalanced parenthesis: ( at position 1 is not closed', 1],
  ['ab)', 'unmatched ) at position 2', 2],
  ['[z-a]', 'bad range z-a at position 1: its start is above its end', 1],
  ['[😀-a]', 'bad range 😀-a at position 1: its start is above its end', 1],
  ['[\\d-z]', 'bad range \\d-z at position 1: a class escape cannot bound a range', 1],
  ['[a-\\w]', 'bad range a-\\w at position 1: a class escape cannot bound a range', 1],
  ['[abc', 'unterminated character class: [ at position 0 is not closed', 0],
  ['[]a]', '[] at position 0 is ambiguous (an empty class in JavaScript, a class holding ] in Python): write \\] for the character', 0],
  [
    '[^]',
    '[^] at position 0 is ambiguous (an any-character class in JavaScript, a class holding ] in Python): write \\] for the character',
    0,
  ],
  ['a{3,2}', 'bad repetition {3,2} at position 1: the maximum is below the minimum', 1],
  ['*a', 'nothing to repeat before * at position 0', 0],
  ['a|+', 'nothing to repeat before + at position 2', 2],
  ['(?)', 'unknown group syntax (?) at position 0', 0],
  ['(|?)', 'nothing to repeat before ? at position 2', 2],
  ['^*', 'nothing to repeat before * at position 1', 1],
  ['{2}', 'nothing to repeat before {2} at position 0', 0],
  [
    'a**',
    'nothing to repeat before * at position 2: it follows the quantifier at position 1 (possessive quantifiers are not supported; group the repetition to repeat it)',
    2,
  ],
  [
    'a*+',
    'nothing to repeat before + at position 2: it follows the quantifier at position 1 (possessive quantifiers are not supported; group the repetition to repeat it)',
    2,
  ],
  [
    'a{2}{3}',
    'nothing to repeat before {3} at position 4: it follows the quantifier at position 1 (possessive quantifiers are not supported; group the repetition to repeat it)',
    4,
  ],
  [
    'a???',
    'nothing to repeat before ? at position 3: it follows the quantifier at position 1 (possessive quantifiers are not supported; group the repetition to repeat it)',
    3,
  ],
  ['ab\\', 'trailing backslash at position 2', 2],
  ['\\q', 'unknown escape \\q at position 0', 0],
  ['\\x4', '\\x at position 0 needs 2 hex digits', 0],
  ['\\u12G4', '\\u at position 0 needs 4 hex digits', 0],
  ['\\u{}', '\\u{ at position 0 needs hex digits and a closing }', 0],
  ['\\u{110000}', '\\u{...} at position 0 is beyond U+10FFFF', 0],
  ['\\U00110000', '\\U at position 0 is beyond U+10FFFF', 0],
  ['a\\uD800', 'lone surrogate U+D800 at position 1 is not a character: no UTF-8 text contains it', 1],
  ['[\\uDC00]', 'lone surrogate U+DC00 at position 1 is not a character: no UTF-8 text contains it', 1],
  ['a\ud800', 'lone surrogate U+D800 at position 1 is not a character: no UTF-8 text contains it', 1],
  ['(?<1x>a)', "bad group name '1x' at position 0", 0],
  ['(?<>a)', "bad group name '' at position 0", 0],
  ['(?<x>a)(?P<x>b)', "duplicate group name 'x' at position 7", 7],
  ['(?<x', 'unterminated group name at position 0', 0],
  // Bounds.
  ['a{1001}', 'repetition count 1001 at position 1 is above the limit of 1000', 1],
  ['a{2,99999999999999999999}', 'repetition count 999999999999... at position 1 is above the limit of 1000', 1],
  ['(a{1000}){1000}', 'pattern too complex: its automaton needs more than 100000 states (repetition counts multiply; lower them)'],
  ['a'.repeat(10_001), 'the pattern is longer than 10000 characters'],
  ['😀'.repeat(10_001), 'the pattern is longer than 10000 characters'],
  ['('.repeat(129) + ')'.repeat(129), 'groups nested deeper than 128 at position 128', 128],
];

describe('regex automaton: errors', () => {
  for (const [pattern, message, position] of ERRORS) {
    it(pattern.length > 40 ? `${pattern.slice(0, 40)}...` : pattern, () => {
      assert.throws(
        () => RegexAutomaton.compile(pattern),
        (error: unknown) => {
          assert.ok(error instanceof RegexError, `not a RegexError: ${String(error)}`);
          assert.equal(error.message, message);
          assert.equal(error.position, position);
          assert.equal(error.name, 'RegexError');
          return true;
        },
      );
    });
  }

  it('a 10,000-character pattern at the limit compiles', () => {
    assert.equal(RegexAutomaton.compile('a'.repeat(10_000)).matches('a'.repeat(10_000)), true);
  });
});

describe('regex automaton: agrees with JavaScript RegExp (u flag)', () => {
  it('on thousands of random patterns and strings', () => {
    let pairs = 0;
    fc.assert(
      fc.property(patternCases, ({ pattern, strings }) => {
        const automaton = RegexAutomaton.compile(pattern);
        for (const text of strings) {
          const expected = javascriptMatches(pattern, text);
          assert.equal(automaton.matches(text), expected, `${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
          pairs++;
          if (!expected) continue;
          // Every byte prefix of a match, including those that split a character, is live.
          const bytes = new TextEncoder().encode(text);
          let state = automaton.start;
          for (let i = 0; i < bytes.length; i++) {
            assert.notEqual(state, DEAD, `${JSON.stringify(pattern)}: dead after ${i} bytes of ${JSON.stringify(text)}`);
            state = automaton.next(state, bytes[i]);
          }
        }
      }),
      { seed: SEED, numRuns: 3_000 },
    );
    assert.equal(pairs, 18_000);
  });
});

describe('regex automaton: bytes', () => {
  const encode = (text: string) => new TextEncoder().encode(text);

  it('a prefix that splits a multi-byte character is live; the whole character completes the match', () => {
    const automaton = RegexAutomaton.compile('[α-ω]😀中.');
    const bytes = encode('λ😀中é');
    for (let end = 1; end < bytes.length; end++) {
      const state = walk(automaton, bytes.subarray(0, end));
      assert.notEqual(state, DEAD, `dead after ${end} bytes`);
      assert.equal(automaton.accepting(state), false);
    }
    assert.equal(automaton.accepting(walk(automaton, bytes)), true);
  });

  it('bytes that are not UTF-8 lead to DEAD', () => {
    const any = RegexAutomaton.compile('.*');
    const invalid: [string, number[]][] = [
      ['a lone continuation byte', [0x80]],
      ['an overlong two-byte form', [0xc0, 0x80]],
      ['an overlong two-byte form of a letter', [0xc1, 0xa1]],
      ['an overlong three-byte form', [0xe0, 0x80, 0x80]],
      ['an overlong four-byte form', [0xf0, 0x80, 0x80, 0x80]],
      ['a surrogate', [0xed, 0xa0, 0x80]],
      ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['a byte never in UTF-8', [0xff]],
      ['a lead byte never in UTF-8', [0xf5]],
      ['a truncated character followed by ASCII', [0xe4, 0xb8, 0x61]],
      ['a lead byte after a lead byte', [0xc3, 0xc3]],
    ];
    for (const [what, bytes] of invalid) assert.equal(walk(any, bytes), DEAD, what);
    assert.equal(any.accepting(walk(any, [0xe4, 0xb8])), false, 'half a character is no match');
    assert.notEqual(walk(any, encode('\u{10ffff}\ud7ff\ue000')), DEAD);
  });

  it('DEAD stays DEAD; out-of-range states and bytes are refused', () => {
    const automaton = RegexAutomaton.compile('ab');
    assert.equal(automaton.next(DEAD, 0x61), DEAD);
    assert.equal(automaton.accepting(DEAD), false);
    assert.equal(automaton.next(automaton.start, 0x62), DEAD);
    assert.throws(() => automaton.next(automaton.start, 256), RangeError);
    assert.throws(() => automaton.next(automaton.start, -1), RangeError);
    assert.throws(() => automaton.next(automaton.start, 1.5), RangeError);
    assert.throws(() => automaton.next(1_000, 0x61), RangeError);
  });

  it('a pattern that matches nothing starts DEAD', () => {
    const nothing = RegexAutomaton.compile('[^\\s\\S]');
    assert.equal(nothing.start, DEAD);
    assert.equal(nothing.matches(''), false);
  });

  it('every byte of a state agrees with the byte classes it falls in', () => {
    const automaton = RegexAutomaton.compile('[a-f]x|[d-z]y|[^a-z]');
    const from = automaton.start;
    const targets = Array.from({ length: 256 }, (_, byte) => automaton.next(from, byte));
    // Computed once per class, then read from the table: the same answers the second time.
    assert.deepEqual(
      Array.from({ length: 256 }, (_, byte) => automaton.next(from, byte)),
      targets,
    );
    assert.equal(targets[0x61], targets[0x62]);
    assert.notEqual(targets[0x61], targets[0x64]);
    assert.equal(targets[0x80], DEAD);
  });
});

describe('regex automaton: bounds', () => {
  it('hostile repetitions are refused by their size with a RegexError', () => {
    for (const pattern of [
      '(a{1000}){1000}',
      '(((a|b)*c){500}){500}',
      '(.{1000}){1000}',
      '([\\s\\S]{1000}){100}',
      '((((a{10}){10}){10}){10}){10}',
    ]) {
      assert.throws(
        () => RegexAutomaton.compile(pattern),
        (error: unknown) => error instanceof RegexError && /^pattern too complex/.test(error.message),
        pattern,
      );
    }
  });

  it('a large but legitimate repetition compiles and is exact', () => {
    // 500 copies of (a|b)*c are about 3,000 NFA states and a DFA that counts the c's.
    const automaton = RegexAutomaton.compile('((a|b)*c){500}');
    assert.equal(automaton.matches('abc'.repeat(500)), true);
    assert.equal(automaton.matches('abc'.repeat(499)), false);
    assert.equal(automaton.matches('c'.repeat(500) + 'a'), false);
  });

  it('deep nesting is a RegexError, never a stack overflow', () => {
    for (const depth of [129, 5_000, 10_000, 100_000]) {
      const pattern = '('.repeat(depth) + 'a' + ')'.repeat(depth);
      assert.throws(() => RegexAutomaton.compile(pattern), RegexError, `depth ${depth}`);
    }
    assert.throws(() => RegexAutomaton.compile('(?:'.repeat(4_000)), RegexError);
    assert.throws(() => RegexAutomaton.compile('['.repeat(9_000)), RegexError);
    assert.equal(RegexAutomaton.compile('('.repeat(128) + 'a' + ')'.repeat(128)).matches('a'), true);
  });

  it('long flat patterns compile without recursion trouble', () => {
    assert.equal(RegexAutomaton.compile(Array.from({ length: 3_000 }, (_, i) => `x${i % 10}`).join('|')).matches('x7'), true);
    assert.equal(RegexAutomaton.compile('a?'.repeat(4_000)).matches('aaa'), true);
  });
});

describe('regex automaton: transition cache', () => {
  // The DFA of (a|b)*a(a|b){12} has 2^13 states: far more than a cache of 16 states holds.
  const pattern = '(a|b)*a(a|b){12}';
  const strings = fc.array(fc.constantFrom('a', 'b'), { minLength: 10, maxLength: 40 }).map((chars) => chars.join(''));

  it('a full cache is flushed and rebuilt: answers stay exact', () => {
    const small = RegexAutomaton.compile(pattern, { maxCachedStates: 16 });
    fc.assert(
      fc.property(strings, (text) => {
        assert.equal(small.matches(text), javascriptMatches(pattern, text), text);
      }),
      { seed: SEED, numRuns: 500 },
    );
    assert.ok(small.cacheFlushes > 0);
    assert.ok(small.stateCount > 16);
  });

  it('state ids held across flushes stay valid', () => {
    const small = RegexAutomaton.compile(pattern, { maxCachedStates: 4 });
    const reference = RegexAutomaton.compile(pattern);
    const held = walk(small, new TextEncoder().encode('ba'));
    const heldReference = walk(reference, new TextEncoder().encode('ba'));
    for (let i = 0; i < 200; i++) small.matches((i * 2654435761).toString(2).replaceAll('0', 'a').replaceAll('1', 'b'));
    assert.ok(small.cacheFlushes > 0);
    const rest = new TextEncoder().encode('aaaaaaaaaaaa');
    assert.equal(small.accepting(walk(small, rest, held)), reference.accepting(walk(reference, rest, heldReference)));
    assert.equal(small.accepting(walk(small, rest, held)), true);
  });

  it('an automaton that outgrows its state budget throws RegexError instead of growing without end', () => {
    const bounded = RegexAutomaton.compile(pattern, { maxStates: 300 });
    assert.throws(
      () => {
        for (let i = 0; i < 2_000; i++) bounded.matches((i * 2654435761).toString(2).replaceAll('0', 'a').replaceAll('1', 'b'));
      },
      (error: unknown) => error instanceof RegexError && /more than 300 automaton states/.test(error.message),
    );
    assert.ok(bounded.stateCount <= 301);
  });

  it('a cache as wide as the limit of cells holds fewer states', () => {
    const narrow = RegexAutomaton.compile('[a-z]*', { maxCachedCells: 8 });
    assert.equal(narrow.matches('abcdefghijklmnopqrstuvwxyz'), true);
    assert.equal(narrow.matches('abc1'), false);
  });
});
