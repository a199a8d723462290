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
  /** Accepted by ajv-formats (or the oracle), Python's jsonschema, the Rust crate and our regex. */
  readonly valid: readonly string[];
  /** Refused by the oracle and by our regex. */
  readonly invalid: readonly string[];
  /**
   * Accepted by ajv-formats (or the oracle) but refused by Python's jsonschema (4.26, with the
   * optional format libraries) or the Rust crate (0.50), as their code reads: refused here too.
   * Each with who refuses it and why.
   */
  readonly refusedElsewhere?: readonly (readonly [text: string, why: string])[];
  /** Refused here though all three may accept them: where a regex is narrower than the intersection. */
  readonly refusedHere?: readonly string[];
  /** Characters for mutations and random strings: the format's own and some that break it. */
  readonly alphabet: string;
}

const LABEL_63 = 'a'.repeat(61) + '-b';
const LOCAL_64 = 'l'.repeat(64);

const NO_LEAP_SECOND = 'Python: rfc3339-validator takes seconds 00-59 only (no leap second)';
const OFFSET_COLON = 'Python and Rust: an offset is ±HH:MM, with the colon and the minutes';
const SPACE_SEPARATOR = 'Python: rfc3339-validator wants T (or t) between date and time; Rust splits at the first T/t';
const YEAR_ZERO_DATE = 'Python: datetime.date.fromisoformat refuses year 0';
const RESERVED_OPERATOR = 'Python: uri_template raises ExpansionReserved for the operators = ! @ |';
const DOUBLE_HYPHEN = 'Rust (drafts 7 on): a label with -- in its 3rd and 4th characters must be a valid xn-- A-label';
const BAD_PUNYCODE = 'Rust: the Punycode of xn--a decodes to U+0080, which is not PVALID';
const LOCAL_PART_TOO_LONG = 'Rust: email_address refuses a local part over 64 characters';
const IPV6_LEADING_ZERO = 'Rust: fluent-uri reads IPv4 octets inside an IPv6 literal without leading zeros';
const UPPER_V = 'Python: rfc3986-validator, rfc3987 and rfc3987-syntax spell IPvFuture with a lower-case v';
const SINGLE_SLASH_AUTHORITY = 'Python and Rust: after one slash comes a path, and [ is no path character (ajv reads an authority)';
const ONE_ELIDED = 'Python: rfc3987-syntax only takes IPv6 literals of eight groups or with :: for exactly one group';

const CASES: FormatCase[] = [
  {
    format: 'date',
    valid: ['2024-02-29', '2000-02-29', '1999-12-31', '2023-06-30', '0400-02-29', '1985-04-12', '0001-01-01'],
    invalid: [
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-1-01',
      '24-01-01',
      '2024-01-01T00:00:00Z',
      '2024/01/01',
    ],
    refusedElsewhere: [
      ['0000-02-29', YEAR_ZERO_DATE],
      ['0000-12-31', YEAR_ZERO_DATE],
    ],
    alphabet: '0123456789-:T ',
  },
  {
    format: 'time',
    valid: [
      '12:30:00Z',
      '23:59:59.5+02:00',
      '08:15:30.123456789-05:00',
      '00:00:00z',
      '12:00:00+05:30',
      '00:00:00-00:00',
      '23:59:59.999999+23:59',
    ],
    invalid: [
      '24:00:00Z',
      '12:30',
      '12:30:00',
      '12:60:00Z',
      '23:59:61Z',
      '12:00:60Z',
      '12:00:00+24:00',
      '12:00:00+05:60',
      '12:00:00 Z',
      '12:00:59.999999999999999Z',
      '1:02:03Z',
    ],
    refusedElsewhere: [
      ['23:59:60Z', NO_LEAP_SECOND],
      ['15:59:60-08:00', NO_LEAP_SECOND],
      ['05:29:60+05:30', NO_LEAP_SECOND],
      ['23:59:60.25Z', NO_LEAP_SECOND],
      ['05:44:60+05:45', NO_LEAP_SECOND],
      ['12:00:00+0530', OFFSET_COLON],
      ['12:00:00+05', OFFSET_COLON],
    ],
    alphabet: '0123456789:.+-Zz T',
  },
  {
    format: 'iso-time',
    valid: ['12:30:00', '23:59:60', '10:15:30.5', '12:30:00Z', '06:45:00-03:30', '23:59:59.999'],
    invalid: ['24:00:00', '12:30', '12:00:60', '12:00:00+24', 'T12:00:00', '12:00:00.'],
    // Neither Python nor Rust knows iso-time: ajv alone decides.
    alphabet: '0123456789:.+-Zz T',
  },
  {
    format: 'date-time',
    valid: [
      '2024-01-02T03:04:05Z',
      '1985-04-12T23:20:50.52Z',
      '1996-12-19T16:39:57-08:00',
      '1937-01-01T12:00:27.87+00:20',
      '2024-01-02t03:04:05z',
      '2000-02-29T00:00:00+01:00',
      '0001-01-01T00:00:00Z',
    ],
    // The first is one of MaskBench's instances (Github_hard---o75565) that ajv refuses too: no time zone.
    invalid: [
      '2024-12-07 08:00:00',
      '2024-01-02',
      '2024-01-02T03:04:05',
      '2024-02-30T00:00:00Z',
      '2024-01-02TT03:04:05Z',
      '2024-01-02T03:04:05Z ',
      '2024-01-02T24:00:00Z',
      '2024-01-02_03:04:05Z',
    ],
    refusedElsewhere: [
      // From MaskBench (Github_hard---o75565), labelled invalid by Python and Rust.
      ['2024-12-07 17:00:00+01:00', SPACE_SEPARATOR],
      ['2024-01-02 03:04:05Z', SPACE_SEPARATOR],
      ['2024-01-02\u00a003:04:05Z', SPACE_SEPARATOR],
      ['1990-12-31T23:59:60Z', NO_LEAP_SECOND],
      ['1990-12-31T15:59:60-08:00', NO_LEAP_SECOND],
      ['2000-02-29T00:00:00+0100', OFFSET_COLON],
      ['2000-02-29T00:00:00-01', OFFSET_COLON],
      ['0000-01-01T00:00:00Z', 'Python: rfc3339-validator refuses year 0'],
    ],
    alphabet: '0123456789-:.+TtZz \u2028',
  },
  {
    format: 'iso-date-time',
    valid: [
      '2024-01-02T03:04:05',
      '2024-01-02 03:04:05.250',
      '2024-01-02T03:04:05+01:00',
      '2016-12-31T23:59:60',
      '2024-01-02t03:04:05z',
      '0000-02-29T00:00:00',
    ],
    invalid: ['2024-01-02', '2024-01-02T03:04', '2023-02-29T00:00:00', '2024-01-02T03:04:05+1', '2024-01-02  03:04:05'],
    // Neither Python nor Rust knows iso-date-time: ajv alone decides.
    alphabet: '0123456789-:.+TtZz \u2028',
  },
  {
    format: 'duration',
    valid: [
      'P3Y6M4DT12H30M5S',
      'P1W',
      'PT36H',
      'P1D',
      'PT0S',
      'P0D',
      'P1M',
      'PT1M',
      'P1Y2M',
      'P23DT23H',
      'P4Y',
      'PT1H30M',
      'P1M2DT3M4S',
      'PT1H2M3S',
    ],
    invalid: ['P', 'PT', 'P1DT', 'P1Y1W', 'P1.5Y', 'PT1H1D', '1D', 'P-1D', 'P1S', 'P1H', 'p1d', 'P1W2D'],
    refusedElsewhere: [
      ['P1Y2D', 'Rust: dur-year = Y [dur-month], so days after years need months between'],
      ['P1Y1DT1H', 'Rust: dur-year = Y [dur-month], so days after years need months between'],
      ['PT1H2S', 'Rust: dur-hour = H [dur-minute], so seconds after hours need minutes between'],
      ['P2DT1H2S', 'Rust: dur-hour = H [dur-minute], so seconds after hours need minutes between'],
    ],
    alphabet: 'PTYMDWHS0123456789.,',
  },
  {
    format: 'uri',
    valid: [
      'ftp://ftp.is.co.za/rfc/rfc1808.txt',
      'http://www.ietf.org/rfc/rfc2396.txt',
      'ldap://[2001:db8::7]/c=GB?objectClass?one',
      'http://[2001:db8::7]/c=GB?objectClass?one',
      'mailto:John.Doe@example.com',
      'news:comp.infosystems.www.servers.unix',
      'tel:+1-816-555-1212',
      'telnet://192.0.2.16:80/',
      'urn:oasis:names:specification:docbook:dtd:xml:4.1.2',
      'https://example.com:8443/a/b?x=1&y=%20#frag',
      'http://[v7.fe80::a+en1]/',
      'file:///etc/hosts',
      'http://user:pass@host.example/',
      'HTTP://[::FFFF:192.0.2.1]/',
      'foo://example.com:8042/over/there?name=ferret#nose',
      'a:/',
      'http://010.1.1.1/',
    ],
    invalid: [
      'example.com',
      '//example.com',
      'not a uri',
      'http://exa mple.com',
      'http://example.com/%zz',
      '1http://x',
      'http://[::1',
      'a:',
      'http://example.com/<p>',
      'http://[1:2]/',
    ],
    refusedElsewhere: [
      ['http://[::ffff:192.168.0.01]/', IPV6_LEADING_ZERO],
      ['http://[1::2:3.4.5.06]', IPV6_LEADING_ZERO],
      ['http://[V1.fe]/', UPPER_V],
      ['http:/[::1]', SINGLE_SLASH_AUTHORITY],
      ['x:/user@[v1.a]/p', SINGLE_SLASH_AUTHORITY],
    ],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'uri-reference',
    valid: [
      '',
      '/relative/path',
      '../up/one',
      '?q=1',
      '#frag',
      '//example.com/x',
      'a/b/c',
      'ftp://ftp.is.co.za/rfc/rfc1808.txt',
      'http://[2001:db8::7]/c=GB?objectClass?one',
      'g;x?y#s',
      './this:that',
      'a:',
      'a/b:c',
    ],
    invalid: [
      'http://exa mple.com',
      '\\\\WINDOWS\\fileshare',
      '#frag\\ment',
      '%zz',
      'http://[::1',
      'a b',
      '/<script>',
      'http://example.com/{x}',
    ],
    refusedElsewhere: [
      // From MaskBench (JsonSchemaStore---bounded-context), labelled invalid by Python and Rust.
      ['://', "Python and Rust: a scheme begins with a letter, and a relative reference's first segment has no colon"],
      ['1:b', "Python and Rust: a scheme begins with a letter, and a relative reference's first segment has no colon"],
      ['2024-01-02T03:04:05Z', 'Python and Rust: a first segment with a colon makes a scheme, which begins with a letter'],
      ['/[::1]', SINGLE_SLASH_AUTHORITY],
      ['//[::ffff:192.168.0.01]/p', IPV6_LEADING_ZERO],
      ['//[V1.x]/', UPPER_V],
    ],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'uri-template',
    valid: [
      'http://example.com/{id}',
      '/users/{user_id}/repos{?page,per_page}',
      '{+path}/here',
      '{#section}',
      'X{.var:3}',
      '{/list*}',
      'map{?keys*}',
      'http://example.com/dictionary/{term:1}/{term}',
      'plain/text/é',
      '',
      '{&x,y}',
      '{;list*}',
      'up%20to{x}',
      '{x:999}',
      '{,x}',
      '{a%41b}',
    ],
    invalid: ['{}', '{var', 'a}b', '{var:0}', '{var:10000}', 'a b', '{-var}', '{va-r}', 'a%zz', '"quoted"', '{x}{'],
    refusedElsewhere: [
      ['up%20to{=x}', RESERVED_OPERATOR],
      ['{!x}', RESERVED_OPERATOR],
      ['{@x,y}', RESERVED_OPERATOR],
      ['{|x}', RESERVED_OPERATOR],
      ['{x:1000}', 'Python: uri_template takes a prefix length of one to three digits'],
      ['{y,x:9999}', 'Python: uri_template takes a prefix length of one to three digits'],
      ['{%41b}', 'Python: uri_template wants a variable name to begin with ALPHA, DIGIT or _'],
      ['a\u007fb', 'Rust: DEL (U+007F) is not a literal character'],
    ],
    alphabet: 'aZ09_{}+#./;?&=,!@|:*% \'"<>\\^`é\u007f',
  },
  {
    format: 'url',
    valid: [
      'http://example.com',
      'https://www.example.com/foo/?bar=baz&inga=42&quux',
      'ftp://foo.bar/baz',
      'http://userid:password@example.com:8080/',
      'http://142.42.1.1:8080/',
      'http://✪df.ws/123',
      'http://例子.测试',
      'http://foo.com/blah_(wikipedia)#cite-1',
      'http://223.255.255.254',
      'HTTPS://EXAMPLE.COM/A',
      'http://a.b-c.de',
      'http://1337.net',
    ],
    invalid: [
      'http://10.1.1.1',
      'http://192.168.1.1/',
      'http://127.0.0.1',
      'http://172.16.0.1',
      'http://169.254.1.1',
      'http://localhost',
      'http://example',
      'mailto:a@b.com',
      'http://a.b-.co',
      'http://example.com:1',
      'http://-error-.invalid/',
      'http://1.1.1.1.1',
      'http://224.1.1.1',
      'http://1.1.1.255',
      'http://example.com?x=1',
      'http:// example.com',
    ],
    // Neither Python nor Rust knows url: ajv alone decides.
    alphabet: 'htpsfHT:/.-@0123456789exampleco?#% ſé\u3000"',
  },
  {
    format: 'email',
    valid: [
      'john.doe@example.com',
      'John.Doe@example.com',
      "o'brien+tag@mail.example.co.uk",
      'user_name@sub-domain.example.org',
      '!#$%&*+/=?^_`{|}~-@example.com',
      'x@y.z',
      'a@1.2.3.4',
      'john.doe.parents@example.com',
      'a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t@x.co',
      `${'a'.repeat(20)}@${'b'.repeat(20)}.${'c'.repeat(20)}.${'d'.repeat(20)}.${'e'.repeat(13)}`,
    ],
    invalid: [
      'john@',
      '@example.com',
      'a b@c.de',
      'john..doe@example.com',
      '.john@example.com',
      'john.@example.com',
      'john@example',
      'john@-example.com',
      'john@example-.com',
      'john@exa_mple.com',
      'joe.bloggs@[127.0.0.1]',
    ],
    refusedElsewhere: [
      [`${LOCAL_64}x@example.com`, LOCAL_PART_TOO_LONG],
      [`${'a'.repeat(40)}.${'b'.repeat(40)}@example.com`, LOCAL_PART_TOO_LONG],
      ['john@ab--cd.example.com', DOUBLE_HYPHEN],
      ['john@xn--a.example.com', BAD_PUNYCODE],
      [`john@${LABEL_63}b.com`, 'Rust: email_address and is_valid_hostname take labels of at most 63 characters'],
      [`john@${Array(4).fill(LABEL_63).join('.')}.com`, 'Rust: is_valid_hostname takes at most 253 characters'],
    ],
    // Valid for all three, but beyond the shapes kept small for products with minLength/maxLength.
    refusedHere: [
      'john@xn--bcher-kva.example',
      `${LOCAL_64}@example.com`,
      `${'a'.repeat(21)}@example.com`,
      `john@${LABEL_63}.com`,
      'john@a.b.c.d.e',
      'john@example.travelersinsurance',
    ],
    alphabet: 'aZ09.@-_+!#~ "()[]<>,;:\\',
  },
  {
    format: 'hostname',
    valid: [
      'example.com',
      'a-b.example.com',
      'localhost',
      'EXAMPLE.COM',
      '1.2.3.4',
      'a--b.example',
      LABEL_63,
      `${LABEL_63}.${LABEL_63}.${LABEL_63}`,
      'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa',
    ],
    invalid: [
      '-a.com',
      'a-.com',
      'a_b.com',
      'a..b',
      '.example',
      `${LABEL_63}b`,
      '',
      'ex ample.com',
      `${LABEL_63}.${LABEL_63}.${LABEL_63}.${LABEL_63}`,
      'example．com',
    ],
    refusedElsewhere: [
      ['example.com.', 'Rust: is_valid_hostname refuses a final dot'],
      ['ab--cd.com', DOUBLE_HYPHEN],
      ['xn--a.example', BAD_PUNYCODE],
      [
        'XN--bcher-kva.example',
        'Rust: only a lower-case xn-- label counts as an A-label, so this one has -- in its 3rd and 4th characters',
      ],
    ],
    // A valid A-label (bücher): Python, Rust and ajv accept it, but a regex cannot decode Punycode.
    refusedHere: ['xn--bcher-kva.example'],
    alphabet: 'aZ09.-_ é',
  },
  {
    format: 'ipv4',
    valid: ['192.168.0.1', '0.0.0.0', '255.255.255.255', '8.8.8.8', '10.0.0.254', '172.16.254.1'],
    invalid: ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '1..2.3'],
    // Python's ipaddress and Rust's Ipv4Addr take what ajv takes: four octets without leading zeros.
    alphabet: '0123456789. a:',
  },
  {
    format: 'ipv6',
    valid: [
      '::1',
      '::',
      '2001:db8::',
      '::ffff:192.0.2.1',
      '2001:db8:85a3::8a2e:370:7334',
      '2001:0DB8:0000:0000:0000:ff00:0042:8329',
      'fe80::1:2:3:4',
      '1:2:3:4:5:6:7::',
      '1::8',
      '1:2:3:4:5:6:1.2.3.4',
      '::1.2.3.4',
      '64:ff9b::198.51.100.7',
      '1:2:3:4:5:6:7:8',
      '::2:3:4:5:6:7:8',
    ],
    invalid: [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '12345::',
      ':1',
      '1:',
      'g::1',
      '::ffff:1.2.3.04',
      '[::1]',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1:2:3:4:5:6:7',
    ],
    // Python's ipaddress (which would take a %scope, refused by jsonschema) and Rust's Ipv6Addr take
    // the RFC 4291 forms ajv takes.
    alphabet: '0123456789abcdefABCDEF:.g %[]',
  },
  {
    format: 'uuid',
    valid: [
      '123e4567-e89b-12d3-a456-426614174000',
      '123E4567-E89B-12D3-A456-426614174000',
      '00000000-0000-0000-0000-000000000000',
      'f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    ],
    invalid: [
      '123e4567e89b12d3a456426614174000',
      '{123e4567-e89b-12d3-a456-426614174000}',
      'urn:uuid:123',
      '123e4567-e89b-12d3-a456-42661417400g',
      'uuid:123e4567-e89b-12d3-a456-426614174000',
    ],
    refusedElsewhere: [
      [
        'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
        'Python: the hyphens must be at 8, 13, 18 and 23 (4.26; later str(UUID(x)) == x.lower()); Rust: uuid-simd parses the 36-character form only',
      ],
      [
        'URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6',
        'Python: the hyphens must be at 8, 13, 18 and 23; Rust: uuid-simd parses the 36-character form only',
      ],
    ],
    alphabet: '0123456789abcdefABCDEF-urnURNiIdD:g{',
  },
  {
    format: 'json-pointer',
    valid: ['', '/', '/foo', '/foo/0', '/a~1b', '/m~0n', '/ ', '/c%d', '/e^f', '/g|h', '/i\\j'.replace('\\', ''), "/k'l", '/é/😀', '//'],
    invalid: ['foo', '/~2', '/~', '#/foo', '/a~'],
    // Python's jsonpointer and Rust take what ajv takes.
    alphabet: '/~01a #%é😀"\\',
  },
  {
    format: 'json-pointer-uri-fragment',
    valid: ['#', '#/foo', '#/foo/0', '#/', '#/a~1b', '#/c%25d', '#/k%22l', '#/%20', '#/m~0n', "#/i'j"],
    invalid: ['/foo', '#foo', '#/~2', '#/ ', '#/%zz', '', '#/é'],
    // Neither Python nor Rust knows json-pointer-uri-fragment: ajv alone decides.
    alphabet: '#/~01a%F ^{é',
  },
  {
    format: 'relative-json-pointer',
    valid: ['0', '1/0', '0#', '2/highly/nested/objects', '0/', '10/a~1b', '1/é', '120#', '99/0/00'],
    invalid: ['', '/foo', '01', '-1', '0##', '0#/x', 'a', '1~0'],
    refusedElsewhere: [
      ['100', 'Python (jsonschema 4.26): a digit after a 0 in the leading number is taken for a leading zero'],
      ['105/a', 'Python (jsonschema 4.26): a digit after a 0 in the leading number is taken for a leading zero'],
      ['2001#', 'Python (jsonschema 4.26): a digit after a 0 in the leading number is taken for a leading zero'],
    ],
    alphabet: '0123456789#/~a -"',
  },
  {
    format: 'byte',
    valid: ['', 'TWFu', 'TWE=', 'TQ==', 'aGVsbG8gd29ybGQ=', 'SGVsbG8sIFdvcmxkIQ==', 'AAAA+/+/'],
    invalid: ['TWF', 'TQ=', 'T===', 'TWFu!', 'TW Fu', '====', 'TQ==TWFu', 'TWFu-_'],
    // Neither Python nor Rust knows byte (nor password and binary): ajv alone decides.
    alphabet: 'AZaz09+/= -_!\u2028',
  },
  { format: 'password', valid: ['hunter2', '', 'correct horse battery staple', 'ünïcödé 😀'], invalid: [], alphabet: 'a 9é😀"\\\n' },
  { format: 'binary', valid: ['', 'GIF89a', '\u007f\u0080'], invalid: [], alphabet: 'a 9é\u007f"\\\u0000' },
  {
    format: 'idn-email',
    valid: ['joe.bloggs@example.com', 'x@y.z', "o'brien+tag@mail.example.co.uk"],
    invalid: ['2962', 'john@', 'a b@c.de', 'user＠example.com'],
    refusedElsewhere: [
      [`${LOCAL_64}x@example.com`, LOCAL_PART_TOO_LONG],
      ['john@ab--cd.example.com', 'Rust: UTS #46 (Hyphens::Check) refuses -- in the 3rd and 4th characters outside valid A-labels'],
      ['john@xn--a.example.com', BAD_PUNYCODE],
    ],
    refusedHere: [`${LOCAL_64}@example.com`],
    alphabet: 'aZ09.@-_+!#~ "()[]<>,;:\\',
  },
  {
    format: 'idn-hostname',
    valid: ['example.com', 'localhost', 'a-b.c', 'hostname', 'host-name', '1host', LABEL_63],
    invalid: ['xn--X', 'XN--aa---o47jg78q', 'example.', 'ab--c.com', '-hello', 'hello-', '', 'a..b', `${LABEL_63}b`],
    // The oracle already refuses the final dot (Rust) and -- in the 3rd and 4th characters (IDNA).
    refusedHere: ['xn--bcher-kva.example'],
    alphabet: 'axnZ09.-_ é',
  },
  {
    format: 'iri',
    valid: [
      'http://example.com/path?q=1#f',
      'urn:example:resource',
      'file:/etc/hosts',
      'http://[2001:db8:0:0:1:0:0:1]',
      'mailto:John.Doe@example.com',
      'about:',
      'tag:?x',
      'http://[v1.fe]',
      'http://[1:2:3:4:5:6::8]/',
    ],
    invalid: ['/abc', 'a b:c', '\\\\WINDOWS\\x', 'http://exa mple.com'],
    refusedElsewhere: [
      ['http://[V1.fe]', UPPER_V],
      ['http://[2001:db8::1]', ONE_ELIDED],
      ['http://[::1]/', ONE_ELIDED],
      ['http://[::ffff:192.168.0.01]', IPV6_LEADING_ZERO],
      ['http:/[::1]', SINGLE_SLASH_AUTHORITY],
    ],
    refusedHere: ['http://2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'http://example.com:abc/path'],
    alphabet: 'aZ09:/?#[]@!$&\'()*+,;=%-._~vVfF <>{}é"\\',
  },
  {
    format: 'iri-reference',
    valid: ['http://example.com/path?q=1#f', '//example.com/x', '/abc', 'a/b', '', '#frag', '?q', 'a:', '//[1:2:3:4:5:6:7::]/p'],
    invalid: ['#frag\\ment', 'a b', '%zz'],
    refusedElsewhere: [
      ['1:b', "Python and Rust: a scheme begins with a letter, and a relative reference's first segment has no colon"],
      ['/[::1]', SINGLE_SLASH_AUTHORITY],
      ['//[::ffff:192.168.0.01]/p', IPV6_LEADING_ZERO],
      ['//[2001:db8::1]/p', ONE_ELIDED],
      ['//[V1.x]', UPPER_V],
    ],
    refusedHere: ['//example.com:abc/p', '//a@b@example.com/'],
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

describe('string formats: regexes accept only what ajv-formats, Python jsonschema and Rust jsonschema all accept', () => {
  for (const { format, valid, invalid, refusedElsewhere = [], refusedHere = [], alphabet } of CASES) {
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
      for (const [text, why] of refusedElsewhere) {
        assert.ok(oracle(text), `the oracle should accept ${JSON.stringify(text)}`);
        assert.ok(!automaton.matches(text), `${format} should refuse ${JSON.stringify(text)} (${why})`);
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
        const examples = [...new Set(gaps)]
          .slice(0, 3)
          .map((text) => JSON.stringify(text))
          .join(', ');
        console.log(`# ${format}: ${gaps.length} of ${accepted} mutated samples ajv accepts are refused (e.g. ${examples})`);
      }
    });
  }
});

describe('string formats: every regex', () => {
  const formats = CASES.map((c) => c.format);

  it('covers every string format of ajv-formats', () => {
    const stringFormats = Object.keys(fullFormats).filter((name) => !['int32', 'int64', 'float', 'double', 'regex'].includes(name));
    assert.deepEqual(
      stringFormats.filter((name) => !formats.includes(name)),
      [],
    );
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

  it('hostname names stay within 253 characters, without a final dot', () => {
    const automaton = RegexAutomaton.compile(formatContent('hostname', '')!);
    const label = (n: number) => 'a'.repeat(n);
    assert.ok(automaton.matches(Array(4).fill(label(62)).join('.')));
    assert.ok(!automaton.matches(`${Array(4).fill(label(62)).join('.')}.`), 'Rust refuses a final dot');
    assert.ok(automaton.matches([label(63), ...Array(11).fill(label(15))].join('.')));
    assert.ok(automaton.matches([label(15), label(63), 'example', 'com'].join('.')));
    assert.ok(!automaton.matches(Array(5).fill(label(50)).join('.')), 'five labels of 50 are 254 characters');
    assert.ok(!automaton.matches(Array(127).fill('a').join('.') + '.a'));
  });

  it('email: local parts of at most 20 atext characters, two to four labels, and small products with lengths', () => {
    for (const format of ['email', 'idn-email']) {
      const automaton = RegexAutomaton.compile(formatContent(format, '')!);
      assert.ok(automaton.matches(`${'l.'.repeat(19)}l@${'d'.repeat(20)}.${'d'.repeat(20)}.${'d'.repeat(20)}.${'t'.repeat(13)}`));
      assert.ok(!automaton.matches(`${'l.'.repeat(20)}l@example.com`), '21 atext characters');
      assert.ok(!automaton.matches(`l@${'d'.repeat(21)}.com`), 'a label of 21');
      assert.ok(!automaton.matches(`l@example.${'t'.repeat(14)}`), 'a last label of 14');
      assert.ok(!automaton.matches('l@a.b.c.d.e'), 'five labels');
      assert.ok(!automaton.matches('l@localhost'), 'ajv wants two labels');
      // lower.ts intersects the format with the length count: this must stay within its budget.
      for (const bounds of [{ maxLength: 1024 }, { maxLength: 190 }, { minLength: 1 }, { minLength: 3, maxLength: 320 }]) {
        assert.doesNotThrow(() => jsonSchemaAutomaton({ type: 'string', format, ...bounds }), `${format} with ${JSON.stringify(bounds)}`);
      }
    }
  });
});

describe('string formats: names without a regex', () => {
  it('unknown names and non-strings constrain nothing', () => {
    for (const format of ['path', 'topic', 'color', 'ISO 8601', 'credit-card', 'int32', 'Date', ''])
      assert.equal(formatContent(format, '/x'), undefined);
    for (const format of [1, null, true, ['date'], { name: 'date' }]) assert.equal(formatContent(format, '/x'), undefined);
  });

  it('regex is refused at .../format', () => {
    assert.throws(
      () => formatContent('regex', '/properties/p'),
      (error: unknown) => error instanceof SchemaError && error.path === '/properties/p/format',
    );
    assert.throws(
      () => jsonSchemaAutomaton({ type: 'string', format: 'regex' }),
      (error: unknown) => error instanceof SchemaError && error.path === '/format',
    );
  });

  it('in a schema, an unknown format leaves the string to its other keywords', () => {
    const automaton = jsonSchemaAutomaton({
      type: 'object',
      properties: { c: { type: 'string', format: 'color', maxLength: 3 } },
      required: ['c'],
    });
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
