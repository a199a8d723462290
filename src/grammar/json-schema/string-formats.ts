// `format` as a regex for the content of a JSON string (the text between the quotes). Each regex
// accepts only strings that all three validators MaskBench labels its instances with accept:
// ajv-formats 3.0.1 in full mode, Python's `jsonschema` (4.26) with its FormatChecker and the
// optional format libraries, and the Rust `jsonschema` crate (0.50). Where their checks differ by
// draft, the strictest one is followed; a format a validator does not know constrains nothing for
// it. Within that intersection each regex takes as much as the dialect can express; where one is
// narrower, the comment beside it says how. No regex matches a character JSON escapes (", \ and
// U+0000-U+001F): the caller places the content between quotes as it is, so strings holding those
// are never generated (a sound narrowing).
import { PLAIN_CHAR } from './json-string.js';
import { SchemaError } from './schema-error.js';

const r = String.raw;

// ---- RFC 3339 dates and times ----

const MONTH_31 = r`(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])`;
const MONTH_30 = r`(?:0[469]|11)-(?:0[1-9]|[12]\d|30)`;
const FEBRUARY = r`02-(?:0[1-9]|1\d|2[0-8])`;
/** Gregorian leap years from 0000 (ajv and Rust take year 0 as a leap year). */
const AJV_LEAP_YEAR = r`(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)`;
/** ajv's date: any four-digit year. */
const AJV_DATE = r`(?:\d{4}-(?:${MONTH_31}|${MONTH_30}|${FEBRUARY})|${AJV_LEAP_YEAR}-02-29)`;
// Python refuses year 0000 for date (datetime.date.fromisoformat) and date-time (rfc3339-validator).
const YEAR = r`(?:\d{3}[1-9]|\d\d[1-9]0|\d[1-9]00|[1-9]000)`;
const LEAP_YEAR = r`(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)`;
const DATE = r`(?:${YEAR}-(?:${MONTH_31}|${MONTH_30}|${FEBRUARY})|${LEAP_YEAR}-02-29)`;

const HOUR = r`(?:[01]\d|2[0-3])`;
const MINUTE = r`[0-5]\d`;
// ajv compares the seconds with 60 (61 for a leap second) as a JavaScript number, which rounds:
// `59.999999999999999` is 60. Doubles there are 2^-47 apart and a tie rounds to the integer, so a
// fraction f keeps the value below the next integer exactly when f < 1 - 2^-48.
const FRACTION_LIMIT = (10n ** 48n - 5n ** 48n).toString();

/** Digit strings d (the empty one too) with 0.d < 0.limit, whose last digit is not 0. */
function digitsBelow(limit: string): string {
  let rest = '';
  for (let i = limit.length - 1; i >= 0; i--) {
    const digit = Number(limit[i]);
    const options = digit > 0 ? [`[0-${digit - 1}]\\d*`] : [];
    if (i < limit.length - 1) options.push(`${digit}${rest}`);
    rest = `(?:${options.join('|')})?`;
  }
  return rest;
}

// FRACTION_LIMIT begins with fourteen nines.
const FRACTION = `9{0,13}(?:[0-8]\\d*|9${digitsBelow(FRACTION_LIMIT.slice(14))})`;
/** Cheaper, for the many leap-second copies: exact up to fourteen digits, narrower beyond. */
const SHORT_FRACTION = r`9{0,13}(?:[0-8]\d*|9(?:[0-5]\d*)?)`;
const SECOND = r`(?:(?:[0-4]\d|5[0-8])(?:\.\d+)?|59(?:\.${FRACTION})?)`;
const LEAP_SECOND = r`60(?:\.${SHORT_FRACTION})?`;

/**
 * time and date-time as all three take them: `HH:MM:SS[.frac]` then `Z` or `±HH:MM` (either case
 * of Z, and of the date-time's T). Python's rfc3339-validator takes no leap second and wants the
 * colon in the offset; Rust wants it too; ajv would also take `+0530`, `+05`, a space or another
 * white-space character for the T, and (only for its own iso-time) no zone at all.
 */
const TIME = `${HOUR}:${MINUTE}:${SECOND}(?:[zZ]|[+-]${HOUR}:${MINUTE})`;

// ---- ajv's own iso-time and iso-date-time (neither Python nor Rust knows them) ----

const AJV_OFFSET = r`[+-]${HOUR}(?::?${MINUTE})?`;
const AJV_ZONE = r`(?:[zZ]|${AJV_OFFSET})`;
const two = (n: number): string => String(n).padStart(2, '0');

/**
 * ajv accepts second 60 when the time, moved to UTC by its offset, is 23:59 (of that day or the
 * day before). Following that for every minute and offset would take a branch per pair, so only
 * minute 59 with whole-hour offsets and minute 29 with half-hour offsets are followed, at every
 * hour. Narrower than ajv, which also takes other offsets (05:44:60+05:45) and, through the same
 * check, out-of-range times such as 24:59:00+01:00.
 */
function leapSecondTimes(): string {
  const branches: string[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const behind = `-${two(23 - hour)}`;
    const wholeHour = hour === 23 ? [r`[zZ]`, r`[+-]00(?::?00)?`, ''] : [`${behind}(?::?00)?`, r`\+${two(hour + 1)}(?::?00)?`];
    const halfHour = [`${behind}:?30`, r`\+${two(hour)}:?30`];
    branches.push(`${two(hour)}:(?:59:${LEAP_SECOND}(?:${wholeHour.join('|')})|29:${LEAP_SECOND}(?:${halfHour.join('|')}))`);
  }
  return branches.join('|');
}

const ISO_TIME = `(?:${HOUR}:${MINUTE}:${SECOND}${AJV_ZONE}?|${leapSecondTimes()})`;
// ajv splits a date-time at `t`, `T` or any JavaScript white space; those below U+0020 need escapes.
const DATE_TIME_SEPARATOR = r`[tT \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]`;

/**
 * ISO 8601 durations as RFC 3339 appendix A has them: no fractions, weeks alone. Rust also wants a
 * month between years and days and a minute between hours and seconds (dur-year = Y [dur-month],
 * dur-hour = H [dur-minute]), which ajv and Python's isoduration would skip: P1Y2D, PT1H2S.
 */
const DURATION_TIME = r`T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)`;
const DURATION = r`P(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:${DURATION_TIME})?|${DURATION_TIME}|\d+W)`;

// ---- Internet addresses: RFC 791 / 4291 / 1123 ----

const HEX = '[0-9a-fA-F]';
/** No leading zeros: ajv, Python's ipaddress and Rust's Ipv4Addr all refuse `01`. */
const OCTET = r`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const H16 = `${HEX}{1,4}`;
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
const groups = (n: number): string => (n === 0 ? '' : n === 1 ? `${H16}:` : `(?:${H16}:){${n}}`);

/** RFC 4291 section 2.2 text forms (RFC 3986's IPv6address): eight groups, `::` for one or more. */
function ipv6(): string {
  const upTo = (n: number): string => (n === 0 ? `(?:${H16})?` : `(?:(?:${H16}:){0,${n}}${H16})?`);
  return [
    `${groups(6)}${LS32}`,
    `::${groups(5)}${LS32}`,
    `${upTo(0)}::${groups(4)}${LS32}`,
    `${upTo(1)}::${groups(3)}${LS32}`,
    `${upTo(2)}::${groups(2)}${LS32}`,
    `${upTo(3)}::${groups(1)}${LS32}`,
    `${upTo(4)}::${LS32}`,
    `${upTo(5)}::${H16}`,
    `${upTo(6)}::`,
  ]
    .map((form) => `(?:${form})`)
    .join('|');
}

/**
 * The IPv6 literals the rfc3987-syntax grammar (Python's iri checker when rfc3987 is absent)
 * takes: eight groups, or `::` standing for exactly one group. `[::1]` and `[2001:db8::1]` are
 * refused there, so in iri and iri-reference too.
 */
function ipv6OneElided(): string {
  const forms = [`${groups(6)}${LS32}`, `::${groups(5)}${LS32}`];
  for (let before = 1; before <= 5; before++) forms.push(`${groups(before - 1)}${H16}::${groups(5 - before)}${LS32}`);
  forms.push(`${groups(5)}${H16}::${H16}`, `${groups(6)}${H16}::`);
  return forms.map((form) => `(?:${form})`).join('|');
}

const IPV6 = ipv6();

const LETTER_DIGIT = '[a-zA-Z0-9]';
const LDH = '[a-zA-Z0-9-]';
/**
 * A label of at most `maxLength` without `--` in its third and fourth characters. Rust (drafts 7
 * on, and through is_valid_hostname for email) and IDNA 2008 take those only as A-labels whose
 * Punycode decodes to a valid U-label (`xn--bcher-kva`), which a regex cannot check: refused.
 */
const label = (maxLength: number): string =>
  `${LETTER_DIGIT}(?:${LDH}{0,2}${LETTER_DIGIT}|${LDH}(?:${LETTER_DIGIT}${LDH}|-${LETTER_DIGIT})${LDH}{0,${maxLength - 5}}${LETTER_DIGIT})?`;

/**
 * RFC 1123 host names: labels of at most 63 characters, at most 253 characters in all, no final
 * dot (Rust refuses it; ajv and Python's fqdn would take it). The total needs a count the regex
 * cannot keep beside the label's, so only these shapes are accepted, each at most 253 characters
 * long: up to 3 labels of at most 63, up to 4 of at most 62, one label of at most 63 with up to 11
 * of at most 15 around it (at most 4 before it), up to 8 of at most 30, 16 of at most 14, 36 of at
 * most 6 (reverse-DNS names). Other names within the limits are refused.
 */
function hostnameShapes(): string {
  const uniform = (count: number, maxLength: number): string => `${label(maxLength)}(?:\\.${label(maxLength)}){0,${count - 1}}`;
  return [
    uniform(3, 63),
    uniform(4, 62),
    `${label(63)}(?:\\.${label(15)}){0,11}`,
    uniform(8, 30),
    uniform(16, 14),
    `(?:${label(15)}\\.){1,4}${label(63)}(?:\\.${label(15)}){0,7}`,
    uniform(36, 6),
  ]
    .map((shape) => `(?:${shape})`)
    .join('|');
}

const HOSTNAME = hostnameShapes();

// ---- RFC 5321/5322 mailboxes: ajv's simplification (a dot-atom local part, a host name of at
// least two labels, no quoted strings or address literals) within Rust's limits (email_address: a
// local part of at most 64 characters; the domain a host name as above). ----

const ATEXT = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]";
/**
 * Narrower than those limits, for the schemas that also bound the length: lower.ts takes the
 * product of this automaton with the length count, and a limit counted here multiplies with that
 * count (with the hostname shapes above, `{"format": "email", "maxLength": 1024}` needs more than
 * its 20,000 states). These shapes keep that product under 10,000 states: a local part of at most
 * 20 atext characters with any dots between them (39 characters at most), then two to four labels,
 * the last of at most 13 characters and the others of at most 20 (76 characters at most).
 */
const EMAIL = `${ATEXT}(?:\\.?${ATEXT}){0,19}@(?:${label(20)}\\.){1,3}${label(13)}`;

// ---- RFC 3986 URIs ----

const PCT_ENCODED = `%${HEX}{2}`;
const UNRESERVED_OR_SUB_DELIM = "a-zA-Z0-9\\-._~!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED_OR_SUB_DELIM}:@]|${PCT_ENCODED})`;
const SEGMENT = `${PCHAR}*`;
const SEGMENT_NZ = `${PCHAR}+`;
const SEGMENT_NZ_NC = `(?:[${UNRESERVED_OR_SUB_DELIM}@]|${PCT_ENCODED})+`;
const QUERY = `(?:\\?(?:${PCHAR}|[/?])*)?`;
const FRAGMENT = `(?:#(?:${PCHAR}|[/?])*)?`;
const SCHEME = '[a-zA-Z][a-zA-Z0-9+.-]*';
const USERINFO = `(?:[${UNRESERVED_OR_SUB_DELIM}:]|${PCT_ENCODED})*`;
// Lower-case `v` only: rfc3986-validator, rfc3987 and rfc3987-syntax spell it so (ajv and Rust
// take `V` too).
const IP_FUTURE = `v${HEX}+\\.[${UNRESERVED_OR_SUB_DELIM}:]+`;
const REG_NAME = `(?:[${UNRESERVED_OR_SUB_DELIM}]|${PCT_ENCODED})*`;
const PATH_ABSOLUTE = `/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?`;
const PATH_ROOTLESS = `${SEGMENT_NZ}(?:/${SEGMENT})*`;
const PATH_NOSCHEME = `${SEGMENT_NZ_NC}(?:/${SEGMENT})*`;

/** `//authority path-abempty`, with the IPv6 literals `ipv6Forms` allows. */
function authorityAndPath(ipv6Forms: string): string {
  const host = `(?:\\[(?:${ipv6Forms}|${IP_FUTURE})\\]|${REG_NAME})`;
  return `//(?:${USERINFO}@)?${host}(?::\\d*)?(?:/${SEGMENT})*`;
}

/**
 * RFC 3986 (in ASCII, so also RFC 3987) exactly, as Rust's fluent-uri and Python's
 * rfc3986-validator / rfc3987 parse it: IPv6 octets without leading zeros (Rust; ajv and Python
 * would take `01`), a relative reference's first segment without a colon (ajv would take `://`).
 * `emptyHierPart`: ajv's uri wants a non-empty hier-part (no `about:`), its uri-reference not.
 */
function uriReference(ipv6Forms: string, relative: boolean, emptyHierPart: boolean): string {
  const authority = authorityAndPath(ipv6Forms);
  const withScheme = `${SCHEME}:(?:${PATH_ROOTLESS})${emptyHierPart ? '?' : ''}`;
  const start = relative
    ? `(?:(?:${SCHEME}:)?(?:${authority}|${PATH_ABSOLUTE})|${withScheme}|${PATH_NOSCHEME})?`
    : `(?:${SCHEME}:(?:${authority}|${PATH_ABSOLUTE})|${withScheme})`;
  return `${start}${QUERY}${FRAGMENT}`;
}

const URI = uriReference(IPV6, false, false);
const URI_REFERENCE = uriReference(IPV6, true, true);
const IPV6_ONE_ELIDED = ipv6OneElided();
const IRI = uriReference(IPV6_ONE_ELIDED, false, true);
const IRI_REFERENCE = uriReference(IPV6_ONE_ELIDED, true, true);

/**
 * RFC 6570 level 4 templates. Literals: any character but controls, space, DEL (Rust) and
 * "'%<>\^`{|}", or a %-escape. Expressions: Python's uri_template refuses the reserved operators
 * `=!@|` and a variable name that begins with a %-escape, and takes prefix lengths of at most
 * three digits (ajv and Rust go to 9999); ajv refuses dots in names.
 */
const VARNAME = `[a-zA-Z0-9_](?:[a-zA-Z0-9_]|${PCT_ENCODED})*`;
const VARSPEC = `${VARNAME}(?::[1-9]\\d{0,2}|\\*)?`;
const URI_TEMPLATE = r`(?:[^\x00-\x20"'<>%\\^${'`'}{|}\x7f]|${PCT_ENCODED}|\{[+#./;?&,]?${VARSPEC}(?:,${VARSPEC})*\})*`;

// ---- ajv's `url` (neither Python nor Rust knows it): http, https or ftp with a public host ----

/** Non-white-space characters (ECMAScript's \S) that JSON need not escape. */
const NOT_SPACE = r`[^\s"\\\x00-\x1f]`;
// With ajv's `iu` flags, `s` also matches U+017F (LATIN SMALL LETTER LONG S), which folds to it.
const URL_SCHEME = '(?:[hH][tT][tT][pP][sS\\u017f]?|[fF][tT][pP])';
const URL_NAME_CHAR = r`[a-zA-Z0-9\u00a1-\uffff]`;
const URL_DOMAIN = `(?:${URL_NAME_CHAR}+-)*${URL_NAME_CHAR}+(?:\\.(?:${URL_NAME_CHAR}+-)*${URL_NAME_CHAR}+)*\\.[a-zA-Z\\u00a1-\\uffff]{2,}`;
// IPv4 hosts from 1.x.x.x to 223.x.x.254 outside the private and loopback ranges ajv excludes
// (10/8, 127/8, 169.254/16, 172.16/12, 192.168/16); middle octets may have one leading zero.
const URL_MIDDLE_OCTET = r`(?:\d\d?|1\d\d|2[0-4]\d|25[0-5])`;
const URL_LAST_OCTET = r`(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4])`;
const URL_PUBLIC_FIRST_OCTET = r`(?:[1-9]|1[1-9]|[2-9]\d|1(?:[013458]\d|2[0-689]|6[0-8]|7[013-9]|9[013-9])|2[01]\d|22[0-3])`;
const URL_IPV4 = [
  `${URL_PUBLIC_FIRST_OCTET}\\.${URL_MIDDLE_OCTET}`,
  r`169\.(?:\d\d?|1\d\d|2[0-4]\d|25[0-35])`,
  r`192\.(?:\d\d?|1(?:[0-57-9]\d|6[0-79])|2[0-4]\d|25[0-5])`,
  r`172\.(?:\d|0\d|1[0-5]|3[2-9]|[4-9]\d|1\d\d|2[0-4]\d|25[0-5])`,
]
  .map((start) => `(?:${start})`)
  .join('|');
const URL = `${URL_SCHEME}://(?:${NOT_SPACE}+@)?(?:(?:${URL_IPV4})\\.${URL_MIDDLE_OCTET}\\.${URL_LAST_OCTET}|${URL_DOMAIN})(?::\\d{2,5})?(?:/${NOT_SPACE}*)?`;

// ---- Identifiers and pointers ----

// The hyphenated form alone: Python compares str(UUID(text)) with the text (4.26 checks the hyphen
// positions) and Rust's uuid-simd parses only the 36-character form, so ajv's `urn:uuid:` is refused.
const UUID = `${HEX}{8}-(?:${HEX}{4}-){3}${HEX}{12}`;
const POINTER_TOKEN = r`(?:[^~/"\\\x00-\x1f]|~[01])*`;
const JSON_POINTER = `(?:/${POINTER_TOKEN})*`;
const JSON_POINTER_URI_FRAGMENT = `#(?:/(?:[a-zA-Z0-9_\\-.!$&'()*+,;:=@]|${PCT_ENCODED}|~[01])*)*`;
// Python jsonschema 4.26 refuses any digit after a 0 in the leading number ("digits with a leading
// 0"), so a 0 may only end it: 0, 10, 120, not 100 or 105.
const RELATIVE_JSON_POINTER = `(?:0|[1-9]+0?)(?:#|${JSON_POINTER})`;
// RFC 4648 base64 with padding (ajv only). ajv tests its regex with the `m` flag, so it also
// accepts any text with one such line between U+2028/U+2029 separators (or an empty one): not
// followed here.
const BASE64_CHAR = '[A-Za-z0-9+/]';
const BYTE = `(?:${BASE64_CHAR}{4})*(?:${BASE64_CHAR}{2}==|${BASE64_CHAR}{3}=)?`;

const FORMATS: Readonly<Record<string, string>> = {
  date: DATE,
  time: TIME,
  'date-time': `${DATE}[tT]${TIME}`,
  'iso-time': ISO_TIME,
  'iso-date-time': `${AJV_DATE}${DATE_TIME_SEPARATOR}${ISO_TIME}`,
  duration: DURATION,
  uri: URI,
  'uri-reference': URI_REFERENCE,
  'uri-template': URI_TEMPLATE,
  url: URL,
  email: EMAIL,
  hostname: HOSTNAME,
  ipv4: IPV4,
  ipv6: IPV6,
  uuid: UUID,
  'json-pointer': JSON_POINTER,
  'json-pointer-uri-fragment': JSON_POINTER_URI_FRAGMENT,
  'relative-json-pointer': RELATIVE_JSON_POINTER,
  byte: BYTE,
  password: `${PLAIN_CHAR}*`,
  binary: `${PLAIN_CHAR}*`,
  // JSON Schema formats ajv-formats lacks: ASCII subsets of what Python and Rust take.
  'idn-email': EMAIL,
  'idn-hostname': HOSTNAME,
  iri: IRI,
  'iri-reference': IRI_REFERENCE,
};

/**
 * The regex for the content of a string with this `format`, or undefined when the format
 * constrains nothing: an unknown name is an annotation, as the specification says.
 */
export function formatContent(format: unknown, path: string): string | undefined {
  if (format === 'regex') throw new SchemaError('format "regex" is not supported', `${path}/format`);
  if (typeof format !== 'string' || !Object.hasOwn(FORMATS, format)) return undefined;
  return FORMATS[format];
}
