import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { g } from '../../src/grammar/cfg/index.js';
import { RegexAutomaton } from '../../src/grammar/regex/index.js';
import { buildNfa } from '../../src/grammar/regex/nfa.js';
import { jsonContent, jsonLiteralContent } from '../../src/grammar/json-schema/json-escapes.js';
import { STRING_CHAR } from '../../src/grammar/json-schema/json-string.js';

const SEED = 20261205;
const matcher = (node: ReturnType<typeof g.pattern>) => RegexAutomaton.fromNfa(buildNfa(node));

/** A JSON spelling of `text`: each character raw, short-escaped or \u-escaped (either case; non-ASCII and controls) at random. */
function spell(text: string, choices: number[]): string {
  let out = '';
  let k = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const choice = choices[k++ % choices.length];
    const short: Record<string, string> = {
      '"': '\\"',
      '\\': '\\\\',
      '/': '\\/',
      '\b': '\\b',
      '\f': '\\f',
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t',
    };
    const u = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;
    const escaped = code > 0xffff ? u(0xd800 + ((code - 0x10000) >> 10)) + u(0xdc00 + ((code - 0x10000) & 0x3ff)) : u(code);
    const cased = choice % 2 === 0 ? escaped : escaped.replace(/[a-f]/g, (c) => c.toUpperCase()).replace('\\U', '\\u');
    const needs = code < 0x20 || char === '"' || char === '\\';
    // Printable ASCII is only ever written raw (or with a short escape).
    const escapable = needs || code >= 0x7f;
    if (choice % 3 === 0 && short[char]) out += short[char];
    else if ((choice % 3 === 1 && escapable) || needs) out += cased;
    else out += char;
  }
  return out;
}

describe('JSON spellings of decoded text', () => {
  const alphabet = fc.constantFrom('a', 'b', 'é', '中', '😀', '"', '\\', '/', '\n', '\u0001', 'z', '\u2028');
  const texts = fc.array(alphabet, { maxLength: 6 }).map((chars) => chars.join(''));

  it('a pattern over decoded text accepts every spelling of its texts, and only those', () => {
    const patterns = ['[a-z]+', '(é|😀)*a', '[^a]*', '.{2,3}', '"\\\\'];
    for (const source of patterns) {
      const content = matcher(jsonContent(g.pattern(source)));
      const decoded = new RegExp(`^(?:${source})$`, 'u');
      fc.assert(
        fc.property(texts, fc.array(fc.nat(5), { minLength: 1, maxLength: 6 }), (text, choices) => {
          const json = spell(text, choices);
          assert.equal(JSON.parse(`"${json}"`), text);
          return content.matches(json) === decoded.test(text);
        }),
        { seed: SEED, numRuns: 800 },
      );
    }
  });

  it('spells literals every way, and the string character counts a surrogate pair as one', () => {
    const literal = matcher(jsonLiteralContent('é😀"/'));
    for (const text of ['é😀\\"/', '\\u00e9\\ud83d\\ude00\\"\\/', '\\u00E9\\uD83D\\uDE00\\u0022/']) assert.ok(literal.matches(text), text);
    assert.ok(!matcher(jsonLiteralContent('a')).matches('\\u0061'), 'printable ASCII is written raw');
    for (const text of ['e😀\\"/', 'é😀"/', '\\u00e9\\ud83d\\"/']) assert.ok(!literal.matches(text), text);
    const one = RegexAutomaton.compile(STRING_CHAR);
    for (const text of ['a', 'é', '\\n', '\\u00e9', '\\ud83d\\ude00', '\\uD83D\\uDE00']) assert.ok(one.matches(text), text);
    for (const text of ['\\ud83d', '\\ude00', '"', '\\x']) assert.ok(!one.matches(text), text);
  });
});
