import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import fc from 'fast-check';
import { DEAD } from '../../src/grammar/automaton.js';
import { jsonSchemaAutomaton, SchemaError } from '../../src/grammar/json-schema/index.js';
import { formatContent } from '../../src/grammar/json-schema/string-formats.js';
import { RegexAutomaton } from '../../src/grammar/regex/index.js';

const ajv = new Ajv2020({ strict: false, validateFormats: true });
addFormatsModule.default(ajv);

type Check = (text: string) => boolean;

function ajvFormat(format: string): Check {
  const validate = ajv.compile({ type: 'string', format });
  return (text) => validate(text) === true;
}

const ajvUri = ajvFormat('uri');
const ajvHostname = ajvFormat('hostname');
const EMPTY_HIER_PART = /^[a-zA-Z][a-zA-Z0-9+.-]*:(?:[?#]|$)/;

/**
 * Oracles for the formats ajv-formats lacks, from the ajv format whose ASCII form they take: an
 * iri may also have an empty hier-part (RFC 3986 path-empty, which ajv's uri refuses), and an
 * idn-hostname has no trailing dot and no `--` in a label's third and fourth characters (IDNA).
 */
const ORACLES: Record<string, Check> = {
  'idn-email': ajvFormat('email'),
  'idn-hostname': (text) => ajvHostname(text) && !text.endsWith('.') && !text.split('.').some((label) => label.slice(2, 4) === '--'),
  iri: (text) => ajvUri(text) || (EMPTY_HIER_PART.test(text) && ajvUri(text.replace(':', ':x'))),
  'iri-reference': ajvFormat('uri-reference'),
};

interface FormatCase {
  readonly format: string;
  /** Accepted by ajv-formats (or the oracle) and by our regex. */
  readonly valid: readonly string[];
  /** Refused by both. */
  readonly invalid: readonly string[];
  /** Refused here, though the oracle (the looser ASCII form of a draft format) accepts them. */
  readonly refusedHere?: readonly string[];
  /** Characters for mutations and random strings: the format's own and some that break it. */
  readonly alphabet: string;
}

const LABEL_63 = 'a'.repeat(61) + '-b';

const CASES: FormatCase[] = [
  {
    format: 'date',
    valid: ['2024-02-29', '2000-02-29', '1999-12-31', '2023-06-30', '0000-02-29', '1985-04-12'],
    invalid: ['2023-02-29', '1900-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '2024-1-01', '24-01-01', '2024-01-01T00:00:00Z', '2024/01/01'],
    alphabet: '0123456789-:T ',
  },
  {
    format: 'time',
    valid: ['12:30:00Z', '23:59:59.5+02:00', '08:15:30.123456789-05:00', '00:00:00z', '12:00:00+0530', '12:00:00+05', '23:59:60Z', '15:59:60-08:00', '05:29:60+05:30', '00:59:60+01:00', '23:59:60.25Z'],
    invalid: ['24:00:00Z', '12:30', '12:30:00', '12:60:00Z', '23:59:61Z', '12:00:60Z', '12:00:00+24:00', '12:00:00+05:60', '12:00:00 Z', '12:00:59.999999999999999Z', '1:02:03Z'],
    alphabet: '0123456789:.+-Zz T',
  },
  {
    format: 'iso-time',
    valid: ['12:30:00', '23:59:60', '10:15:30.5', '12:30:00Z', '06:45:00-03:30', '23:59:59.999'],
    invalid: ['24:00:00', '12:30', '12:00:60', '12:00:00+24', 'T12:00:00', '12:00:00.'],
    alphabet: '0123456789:.+-Zz T',
  },
  {
    format: 'date-time',
    valid: [
      '2024-01-02T03:04:05Z', '1985-04-12T23:20:50.52Z', '1996-12-19T16:39:57-08:00', '1990-12-31T23:59:60Z', '1990-12-31T15:59:60-08:00',
      '1937-01-01T12:00:27.87+00:20', '2024-01-02t03:04:05z', '2024-01-02 03:04:05Z', '2000-02-29T00:00:00+0100',
    ],
    invalid: ['2024-01-02', '2024-01-02T03:04:05', '2024-02-30T00:00:00Z', '2024-01-02TT03:04:05Z', '2024-01-02T03:04:05Z ', '2024-01-02T24:00:00Z', '2024-01-02_03:04:05Z'],
    alphabet: '0123456789-:.+TtZz \u2028',
  },
  {
    format: 'iso-date-time',
    valid: ['2024-01-02T03:04:05', '2024-01-02 03:04:05.250', '2024-01-02T03:04:05+01:00', '2016-12-31T23:59:60', '2024-01-02t03:04:05z'],
    invalid: ['2024-01-02', '2024-01-02T03:04', '2023-02-29T00:00:00', '2024-01-02T03:04:05+1', '2024-01-02  03:04:05'],
    alphabet: '0123456789-:.+TtZz \u2028',
  },
  {
    format: 'duration',
    valid: ['P3Y6M4DT12H30M5S', 'P1W', 'PT36H', 'P1D', 'PT0S', 'P0D', 'P1M', 'PT1M', 'P1Y2M', 'P23DT23H', 'P4Y', 'PT1H30M'],
    invalid: ['P', 'PT', 'P1DT', 'P1Y1W', 'P1.5Y', 'PT1H1D', '1D', 'P-1D', 'P1S', 'P1H', 'p1d', 'P1W2D'],
    alphabet: 'PTYMDWHS0123456789.,',
  },
  {
    format: 'uri',
    valid: [
      'ftp://ftp.is.co.za/rfc/rfc1808.txt', 'http://www.ietf.org/rfc/rfc2396.txt', 'ldap://[2001:db8::7]/c=GB?objectClass?one', 'http://[2001:db8::7]/c=GB?objectClass?one',
      'mailto:John.Doe@example.com', 'news:comp.infosystems.www.servers.unix', 'tel:+1-816-555-1212', 'telnet://192.0.2.16:80/',
      'urn:oasis:names:specification:docbook:dtd:xml:4.1.2', 'https://example.com:8443/a/b?x=1&y=%20#frag', 'http://[v7.fe80::a+en1]/', 'file:///etc/hosts',
      'http://user:pass@host.example/', 'HTTP://[::FFFF:192.0.2.1]/', 'foo://example.com:8042/over/there?name=ferret#nose',
    ],
    invalid: ['example.com', '//example.com', 'not a uri', 'http://exa mple.com', 'http://example.com/%zz', '1http://x', 'http://[::1', 'a:', 'http://example.com/<p>', 'http://[1:2]/'],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'uri-reference',
    valid: ['', '/relative/path', '../up/one', '?q=1', '#frag', '//example.com/x', 'a/b/c', 'ftp://ftp.is.co.za/rfc/rfc1808.txt', 'http://[2001:db8::7]/c=GB?objectClass?one', 'g;x?y#s', './this:that'],
    invalid: ['http://exa mple.com', '\\\\WINDOWS\\fileshare', '#frag\\ment', '%zz', 'http://[::1', 'a b', '/<script>', 'http://example.com/{x}'],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'uri-template',
    valid: [
      'http://example.com/{id}', '/users/{user_id}/repos{?page,per_page}', '{+path}/here', '{#section}', 'X{.var:3}', '{/list*}', 'map{?keys*}',
      'http://example.com/dictionary/{term:1}/{term}', 'plain/text/é', '', '{&x,y}', '{;list*}', 'up%20to{=x}',
    ],
    invalid: ['{}', '{var', 'a}b', '{var:0}', '{var:10000}', 'a b', '{-var}', '{va-r}', 'a%zz', '"quoted"', '{x}{'],
    alphabet: 'aZ09_{}+#./;?&=,!@|:*% \'"<>\\^`é',
  },
  {
    format: 'url',
    valid: [
      'http://example.com', 'https://www.example.com/foo/?bar=baz&inga=42&quux', 'ftp://foo.bar/baz', 'http://userid:password@example.com:8080/', 'http://142.42.1.1:8080/',
      'http://✪df.ws/123', 'http://例子.测试', 'http://foo.com/blah_(wikipedia)#cite-1', 'http://223.255.255.254', 'HTTPS://EXAMPLE.COM/A', 'http://a.b-c.de', 'http://1337.net',
    ],
    invalid: [
      'http://10.1.1.1', 'http://192.168.1.1/', 'http://127.0.0.1', 'http://172.16.0.1', 'http://169.254.1.1', 'http://localhost', 'http://example', 'mailto:a@b.com',
      'http://a.b-.co', 'http://example.com:1', 'http://-error-.invalid/', 'http://1.1.1.1.1', 'http://224.1.1.1', 'http://1.1.1.255', 'http://example.com?x=1', 'http:// example.com',
    ],
    alphabet: 'htpsfHT:/.-@0123456789exampleco?#% ſé\u3000"',
  },
  {
    format: 'email',
    valid: ['john.doe@example.com', 'John.Doe@example.com', "o'brien+tag@mail.example.co.uk", 'user_name@sub-domain.example.org', '!#$%&*+/=?^_`{|}~-@example.com', 'x@y.z', 'a@1.2.3.4'],
    invalid: ['john@', '@example.com', 'a b@c.de', 'john..doe@example.com', '.john@example.com', 'john.@example.com', 'john@example', 'john@-example.com', 'john@example-.com', 'john@exa_mple.com', 'joe.bloggs@[127.0.0.1]'],
    alphabet: 'aZ09.@-_+!#~ "()[]<>,;:\\',
  },
  {
    format: 'hostname',
    valid: ['example.com', 'a-b.example.com', 'localhost', 'xn--bcher-kva.example', 'EXAMPLE.COM', 'example.com.', '1.2.3.4', LABEL_63, `${LABEL_63}.${LABEL_63}.${LABEL_63}`, 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa'],
    invalid: ['-a.com', 'a-.com', 'a_b.com', 'a..b', '.example', `${LABEL_63}b`, '', 'ex ample.com', `${LABEL_63}.${LABEL_63}.${LABEL_63}.${LABEL_63}`, 'example．com'],
    alphabet: 'aZ09.-_ é',
  },
  {
    format: 'ipv4',
    valid: ['192.168.0.1', '0.0.0.0', '255.255.255.255', '8.8.8.8', '10.0.0.254', '172.16.254.1'],
    invalid: ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '1..2.3'],
    alphabet: '0123456789. a:',
  },
  {
    format: 'ipv6',
    valid: [
      '::1', '::', '2001:db8::', '::ffff:192.0.2.1', '2001:db8:85a3::8a2e:370:7334', '2001:0DB8:0000:0000:0000:ff00:0042:8329', 'fe80::1:2:3:4', '1:2:3:4:5:6:7::',
      '1::8', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', '64:ff9b::198.51.100.7', '1:2:3:4:5:6:7:8',
    ],
    invalid: ['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', ':1', '1:', 'g::1', '::ffff:1.2.3.04', '[::1]', 'fe80::1%eth0', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6:7'],
    alphabet: '0123456789abcdefABCDEF:.g %[]',
  },
  {
    format: 'uuid',
    valid: ['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6', '00000000-0000-0000-0000-000000000000'],
    invalid: ['123e4567e89b12d3a456426614174000', '{123e4567-e89b-12d3-a456-426614174000}', 'urn:uuid:123', '123e4567-e89b-12d3-a456-42661417400g', 'uuid:123e4567-e89b-12d3-a456-426614174000'],
    alphabet: '0123456789abcdefABCDEF-urnURNiIdD:g{',
  },
  {
    format: 'json-pointer',
    valid: ['', '/', '/foo', '/foo/0', '/a~1b', '/m~0n', '/ ', '/c%d', '/e^f', '/g|h', "/i\\j".replace('\\', ''), "/k'l", '/é/😀', '//'],
    invalid: ['foo', '/~2', '/~', '#/foo', '/a~'],
    alphabet: '/~01a #%é😀"\\',
  },
  {
    format: 'json-pointer-uri-fragment',
    valid: ['#', '#/foo', '#/foo/0', '#/', '#/a~1b', '#/c%25d', '#/k%22l', '#/%20', '#/m~0n', "#/i'j"],
    invalid: ['/foo', '#foo', '#/~2', '#/ ', '#/%zz', '', '#/é'],
    alphabet: '#/~01a%F ^{é',
  },
  {
    format: 'relative-json-pointer',
    valid: ['0', '1/0', '0#', '2/highly/nested/objects', '0/', '10/a~1b', '1/é'],
    invalid: ['', '/foo', '01', '-1', '0##', '0#/x', 'a', '1~0'],
    alphabet: '0123456789#/~a -"',
  },
  {
    format: 'byte',
    valid: ['', 'TWFu', 'TWE=', 'TQ==', 'aGVsbG8gd29ybGQ=', 'SGVsbG8sIFdvcmxkIQ==', 'AAAA+/+/'],
    invalid: ['TWF', 'TQ=', 'T===', 'TWFu!', 'TW Fu', '====', 'TQ==TWFu', 'TWFu-_'],
    alphabet: 'AZaz09+/= -_!\u2028',
  },
  { format: 'password', valid: ['hunter2', '', 'correct horse battery staple', 'ünïcödé 😀'], invalid: [], alphabet: 'a 9é😀"\\\n' },
  { format: 'binary', valid: ['', 'GIF89a', '\u007f\u0080'], invalid: [], alphabet: 'a 9é\u007f"\\\u0000' },
  {
    format: 'idn-email',
    valid: ['joe.bloggs@example.com', 'x@y.z', "o'brien+tag@mail.example.co.uk"],
    invalid: ['2962', 'john@', 'a b@c.de', 'user＠example.com'],
    alphabet: 'aZ09.@-_+!#~ "()[]<>,;:\\',
  },
  {
    format: 'idn-hostname',
    valid: ['example.com', 'localhost', 'a-b.c', 'hostname', 'host-name', '1host', LABEL_63],
    invalid: ['xn--X', 'XN--aa---o47jg78q', 'example.', 'ab--c.com', '-hello', 'hello-', '', 'a..b', `${LABEL_63}b`],
    alphabet: 'axnZ09.-_ é',
  },
  {
    format: 'iri',
    valid: ['http://example.com/path?q=1#f', 'urn:example:resource', 'file:/etc/hosts', 'http://[2001:db8::1]', 'mailto:John.Doe@example.com', 'about:', 'tag:?x', 'http://[V1.fe]'],
    invalid: ['/abc', 'a b:c', '\\\\WINDOWS\\x', 'http://exa mple.com'],
    refusedHere: ['http://2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'http:/[::1]', 'http://[::ffff:192.168.0.01]', 'http://example.com:abc/path'],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'iri-reference',
    valid: ['http://example.com/path?q=1#f', '//example.com/x', '/abc', 'a/b', '', '#frag', '?q'],
    invalid: ['#frag\\ment', 'a b', '%zz'],
    refusedHere: ['1:b', '/[::1]', '//example.com:abc/p', '//a@b@example.com/', '//[::ffff:192.168.0.01]/p'],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
];

/** Sample strings with one to three characters replaced, inserted or removed (by code point). */
function mutations(samples: readonly string[], alphabet: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.constantFrom('replace', 'insert', 'remove'));
  return fc.tuple(fc.constantFrom(...samples), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([sample, edits]) => {
    const chars = Array.from(sample);
    for (const [at, char, how] of edits) {
      const i = chars.length === 0 ? 0 : at % (chars.length + (how === 'insert' ? 1 : 0));
      if (how === 'insert') chars.splice(i, 0, char);
      else if (chars.length > 0) chars.splice(i, 1, ...(how === 'replace' ? [char] : []));
    }
    return chars.join('');
  });
}

const NEEDS_ESCAPE = (byte: number): boolean => byte < 0x20 || byte === 0x22 || byte === 0x5c;

describe('string formats: regexes accept only what ajv-formats accepts', () => {
  for (const { format, valid, invalid, refusedHere = [], alphabet } of CASES) {
    it(format, () => {
      const regex = formatContent(format, '');
      assert.ok(regex !== undefined);
      const automaton = RegexAutomaton.compile(regex);
      const oracle = ORACLES[format] ?? ajvFormat(format);
      for (const text of valid) {
        assert.ok(oracle(text), `the oracle should accept ${JSON.stringify(text)}`);
        assert.ok(automaton.matches(text), `${format} should accept ${JSON.stringify(text)}`);
      }
      for (const text of invalid) {
        assert.ok(!oracle(text), `the oracle should refuse ${JSON.stringify(text)}`);
        assert.ok(!automaton.matches(text), `${format} should refuse ${JSON.stringify(text)}`);
      }
      for (const text of refusedHere) assert.ok(!automaton.matches(text), `${format} should refuse ${JSON.stringify(text)}`);

      const chars = Array.from(alphabet);
      let accepted = 0;
      const gaps: string[] = [];
      const mutated = mutations(valid, chars).map((text) => ({ text, mutated: true }));
      const random = fc.string({ unit: fc.constantFrom(...chars), maxLength: 40 }).map((text) => ({ text, mutated: false }));
      fc.assert(
        fc.property(fc.oneof(mutated, random), ({ text, mutated }) => {
          const ours = automaton.matches(text);
          const theirs = oracle(text);
          if (mutated && theirs) {
            accepted++;
            if (!ours) gaps.push(text);
          }
          return !ours || theirs;
        }),
        { numRuns: 4000 },
      );
      if (gaps.length > 0) {
        const examples = [...new Set(gaps)].slice(0, 3).map((text) => JSON.stringify(text)).join(', ');
        console.log(`# ${format}: ${gaps.length} of ${accepted} mutated samples ajv accepts are refused (e.g. ${examples})`);
      }
    });
  }
});

describe('string formats: every regex', () => {
  const formats = CASES.map((c) => c.format);

  it('covers every string format of ajv-formats', () => {
    const stringFormats = Object.keys(fullFormats).filter((name) => !['int32', 'int64', 'float', 'double', 'regex'].includes(name));
    assert.deepEqual(stringFormats.filter((name) => !formats.includes(name)), []);
  });

  it('is a small NFA that never takes a character JSON escapes', () => {
    for (const format of formats) {
      const automaton = RegexAutomaton.compile(formatContent(format, '')!);
      assert.ok(automaton.nfa.stateCount < 5000, `${format}: ${automaton.nfa.stateCount} NFA states`);
      const seen = new Set([automaton.start]);
      const pending = [automaton.start];
      while (pending.length > 0) {
        const state = pending.pop()!;
        for (let byte = 0; byte < 256; byte++) {
          const next = automaton.next(state, byte);
          if (next === DEAD) continue;
          assert.ok(!NEEDS_ESCAPE(byte), `${format} takes byte ${byte}`);
          if (!seen.has(next)) {
            seen.add(next);
            pending.push(next);
          }
        }
      }
    }
  });

  it('hostname names stay within 253 characters (254 with a final dot)', () => {
    const automaton = RegexAutomaton.compile(formatContent('hostname', '')!);
    const label = (n: number) => 'a'.repeat(n);
    assert.ok(automaton.matches(Array(4).fill(label(62)).join('.')));
    assert.ok(automaton.matches(`${Array(4).fill(label(62)).join('.')}.`));
    assert.ok(automaton.matches([label(63), ...Array(11).fill(label(15))].join('.')));
    assert.ok(automaton.matches([label(15), label(63), 'example', 'com'].join('.')));
    assert.ok(!automaton.matches(Array(5).fill(label(50)).join('.')), 'five labels of 50 are 254 characters');
    assert.ok(!automaton.matches(Array(127).fill('a').join('.') + '.a'));
  });
});

describe('string formats: names without a regex', () => {
  it('unknown names and non-strings constrain nothing', () => {
    for (const format of ['path', 'topic', 'color', 'ISO 8601', 'credit-card', 'int32', 'Date', '']) assert.equal(formatContent(format, '/x'), undefined);
    for (const format of [1, null, true, ['date'], { name: 'date' }]) assert.equal(formatContent(format, '/x'), undefined);
  });

  it('regex is refused at .../format', () => {
    assert.throws(() => formatContent('regex', '/properties/p'), (error: unknown) => error instanceof SchemaError && error.path === '/properties/p/format');
    assert.throws(() => jsonSchemaAutomaton({ type: 'string', format: 'regex' }), (error: unknown) => error instanceof SchemaError && error.path === '/format');
  });

  it('in a schema, an unknown format leaves the string to its other keywords', () => {
    const automaton = jsonSchemaAutomaton({ type: 'object', properties: { c: { type: 'string', format: 'color', maxLength: 3 } }, required: ['c'] });
    const matches = (text: string): boolean => {
      let state = automaton.start;
      for (const byte of new TextEncoder().encode(text)) {
        if (state === DEAD) return false;
        state = automaton.next(state, byte);
      }
      return state !== DEAD && automaton.accepting(state);
    };
    for (const text of ['{"c":"red"}', '{"c":"\\n"}', '{"c":""}']) assert.ok(matches(text), text);
    for (const text of ['{"c":"blue"}', '{"c":1}']) assert.ok(!matches(text), text);
  });
});
