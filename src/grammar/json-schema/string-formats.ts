// `format` as a regex for the content of a JSON string (the text between the quotes). Each regex
// accepts only strings ajv-formats (full mode) accepts, and as many of them as the regex dialect
// can express; where a format is narrower, the comment beside it says how. No regex matches a
// character JSON escapes (", \ and U+0000-U+001F): the caller places the content between quotes
// as it is, so strings holding those are never generated (a sound narrowing).
import { PLAIN_CHAR } from './json-string.js';
import { SchemaError } from './schema-error.js';

const r = String.raw;

// ---- RFC 3339 dates and times, as ajv checks them ----

const MONTH_31 = r`(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])`;
const MONTH_30 = r`(?:0[469]|11)-(?:0[1-9]|[12]\d|30)`;
const FEBRUARY = r`02-(?:0[1-9]|1\d|2[0-8])`;
const LEAP_YEAR = r`(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)`;
const DATE = r`(?:\d{4}-(?:${MONTH_31}|${MONTH_30}|${FEBRUARY})|${LEAP_YEAR}-02-29)`;

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
const OFFSET = r`[+-]${HOUR}(?::?${MINUTE})?`;
const ZONE = r`(?:[zZ]|${OFFSET})`;

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * ajv accepts second 60 when the time, moved to UTC by its offset, is 23:59 (of that day or the
 * day before). Following that for every minute and offset would take a branch per pair, so only
 * minute 59 with whole-hour offsets and minute 29 with half-hour offsets are followed, at every
 * hour. Narrower than ajv, which also takes other offsets (05:14:60+05:45) and, through the same
 * check, out-of-range times such as 24:59:00+01:00.
 */
function leapSecondTimes(zoneRequired: boolean): string {
  const branches: string[] = [];
  for (let hour = 0; hour < 24; hour++) {
    const behind = `-${two(23 - hour)}`;
    const wholeHour = hour === 23 ? [r`[zZ]`, r`[+-]00(?::?00)?`] : [`${behind}(?::?00)?`, r`\+${two(hour + 1)}(?::?00)?`];
    if (hour === 23 && !zoneRequired) wholeHour.push('');
    const halfHour = [`${behind}:?30`, r`\+${two(hour)}:?30`];
    branches.push(`${two(hour)}:(?:59:${LEAP_SECOND}(?:${wholeHour.join('|')})|29:${LEAP_SECOND}(?:${halfHour.join('|')}))`);
  }
  return branches.join('|');
}

function time(zoneRequired: boolean): string {
  return `(?:${HOUR}:${MINUTE}:${SECOND}${ZONE}${zoneRequired ? '' : '?'}|${leapSecondTimes(zoneRequired)})`;
}

const TIME = time(true);
const ISO_TIME = time(false);
// ajv splits a date-time at `t`, `T` or any JavaScript white space; those below U+0020 need escapes.
const DATE_TIME_SEPARATOR = r`[tT \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]`;

// ISO 8601 durations as RFC 3339 appendix A has them: no fractions, weeks alone.
const DURATION_TIME = r`T(?:\d+H(?:\d+M)?(?:\d+S)?|\d+M(?:\d+S)?|\d+S)`;
const DURATION = r`P(?:\d+Y(?:\d+M)?(?:\d+D)?(?:${DURATION_TIME})?|\d+M(?:\d+D)?(?:${DURATION_TIME})?|\d+D(?:${DURATION_TIME})?|${DURATION_TIME}|\d+W)`;

// ---- Internet addresses: RFC 791 / 4291 / 1123 ----

const HEX = '[0-9a-fA-F]';
const OCTET = r`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
/** RFC 3986's dec-octet read loosely, as ajv's URI regexes do: leading zeros allowed (`010`, `001`). */
const LOOSE_OCTET = r`(?:25[0-5]|2[0-4]\d|[01]?\d\d?)`;
const ipv4 = (octet: string): string => `${octet}(?:\\.${octet}){3}`;
const IPV4 = ipv4(OCTET);

/** RFC 4291 section 2.2 text forms (RFC 3986's IPv6address): eight groups, `::` for one or more. */
function ipv6(octet: string): string {
  const h16 = `${HEX}{1,4}`;
  const ls32 = `(?:${h16}:${h16}|${ipv4(octet)})`;
  const groups = (n: number): string => (n === 0 ? '' : n === 1 ? `${h16}:` : `(?:${h16}:){${n}}`);
  const upTo = (n: number): string => (n === 0 ? `(?:${h16})?` : `(?:(?:${h16}:){0,${n}}${h16})?`);
  return [
    `${groups(6)}${ls32}`,
    `::${groups(5)}${ls32}`,
    `${upTo(0)}::${groups(4)}${ls32}`,
    `${upTo(1)}::${groups(3)}${ls32}`,
    `${upTo(2)}::${groups(2)}${ls32}`,
    `${upTo(3)}::${groups(1)}${ls32}`,
    `${upTo(4)}::${ls32}`,
    `${upTo(5)}::${h16}`,
    `${upTo(6)}::`,
  ].map((form) => `(?:${form})`).join('|');
}

const IPV6 = ipv6(OCTET);

const LETTER_DIGIT = '[a-zA-Z0-9]';
const LDH = '[a-zA-Z0-9-]';
const label = (maxLength: number): string => `${LETTER_DIGIT}(?:${LDH}{0,${maxLength - 2}}${LETTER_DIGIT})?`;
/**
 * A label of at most `maxLength` without `--` in its third and fourth characters: IDNA 2008
 * reserves those labels (R-LDH), and a regex cannot tell a valid `xn--` A-label from an invalid one.
 */
const unreservedLabel = (maxLength: number): string =>
  `${LETTER_DIGIT}(?:${LDH}{0,2}${LETTER_DIGIT}|${LDH}(?:${LETTER_DIGIT}${LDH}|-${LETTER_DIGIT})${LDH}{0,${maxLength - 5}}${LETTER_DIGIT})?`;

/**
 * RFC 1123 host names: labels of at most 63 characters, at most 253 characters in all. The total
 * needs a count the regex cannot keep beside the label's, so only these shapes are accepted, each
 * at most 253 characters long: up to 3 labels of at most 63, up to 4 of at most 62, one label of at
 * most 63 with up to 11 of at most 15 around it (at most 4 before it), up to 8 of at most 30, 16 of
 * at most 14, 36 of at most 6 (reverse-DNS names). Other names within the limits are refused.
 */
function hostnameShapes(makeLabel: (maxLength: number) => string): string {
  const uniform = (count: number, maxLength: number): string => `${makeLabel(maxLength)}(?:\\.${makeLabel(maxLength)}){0,${count - 1}}`;
  return [
    uniform(3, 63),
    uniform(4, 62),
    `${makeLabel(63)}(?:\\.${makeLabel(15)}){0,11}`,
    uniform(8, 30),
    uniform(16, 14),
    `(?:${makeLabel(15)}\\.){1,4}${makeLabel(63)}(?:\\.${makeLabel(15)}){0,7}`,
    uniform(36, 6),
  ].map((shape) => `(?:${shape})`).join('|');
}

const HOSTNAME = `(?:${hostnameShapes(label)})\\.?`;
const IDN_HOSTNAME = `(?:${hostnameShapes(unreservedLabel)})`;

// ---- RFC 5321/5322 mailboxes, as ajv simplifies them: a dot-atom local part, a host name of at
// least two labels (no length limits), no quoted strings or address literals. ----

const ATEXT = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]";
const DOMAIN_LABEL = `${LETTER_DIGIT}(?:${LDH}*${LETTER_DIGIT})?`;
const EMAIL = `${ATEXT}+(?:\\.${ATEXT}+)*@(?:${DOMAIN_LABEL}\\.)+${DOMAIN_LABEL}`;

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
const IP_FUTURE = `[vV]${HEX}+\\.[${UNRESERVED_OR_SUB_DELIM}:]+`;
const REG_NAME = `(?:[${UNRESERVED_OR_SUB_DELIM}]|${PCT_ENCODED})*`;

/**
 * `//authority path-abempty` and the path forms. `loose` is ajv's reading: its IPv6 hosts take
 * octets with leading zeros, and it also takes an authority after a single slash (which adds only
 * `/[IP-literal]...` to the path forms).
 */
function authorityAndPath(loose: boolean): string {
  const host = `(?:\\[(?:${ipv6(loose ? LOOSE_OCTET : OCTET)}|${IP_FUTURE})\\]|${REG_NAME})`;
  return `${loose ? '/?/' : '//'}(?:${USERINFO}@)?${host}(?::\\d*)?(?:/${SEGMENT})*`;
}

const URI_HIER_PART = `(?:${authorityAndPath(true)}|/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?|${SEGMENT_NZ}(?:/${SEGMENT})*)`;
// ajv's uri requires a non-empty hier-part; its uri-reference lets the part after an optional
// scheme begin with any segment, `:` included (RFC 3986 wants path-noscheme there).
const URI = `${SCHEME}:${URI_HIER_PART}${QUERY}${FRAGMENT}`;
const URI_REFERENCE = `(?:${SCHEME}:)?${URI_HIER_PART}?${QUERY}${FRAGMENT}`;

/** RFC 3986 exactly, in ASCII (valid IRIs too): for iri and iri-reference, which ajv lacks. */
const STRICT_HIER_PART = `(?:${authorityAndPath(false)}|/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?|${SEGMENT_NZ}(?:/${SEGMENT})*)?`;
const STRICT_RELATIVE_PART = `(?:${authorityAndPath(false)}|/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?|${SEGMENT_NZ_NC}(?:/${SEGMENT})*)?`;
const IRI = `${SCHEME}:${STRICT_HIER_PART}${QUERY}${FRAGMENT}`;
const IRI_REFERENCE = `(?:${IRI}|${STRICT_RELATIVE_PART}${QUERY}${FRAGMENT})`;

// RFC 6570 level 4 templates: literals (any character but controls, space and "'%<>\^`{|}",
// or a %-escape) and expressions of variable names, each with a prefix length or explode.
const VARNAME = `(?:[a-zA-Z0-9_]|${PCT_ENCODED})+`;
const VARSPEC = `${VARNAME}(?::[1-9]\\d{0,3}|\\*)?`;
const URI_TEMPLATE = r`(?:[^\x00-\x20"'<>%\\^${'`'}{|}]|${PCT_ENCODED}|\{[+#./;?&=,!@|]?${VARSPEC}(?:,${VARSPEC})*\})*`;

// ---- ajv's `url`: http, https or ftp with a public host ----

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
].map((start) => `(?:${start})`).join('|');
const URL = `${URL_SCHEME}://(?:${NOT_SPACE}+@)?(?:(?:${URL_IPV4})\\.${URL_MIDDLE_OCTET}\\.${URL_LAST_OCTET}|${URL_DOMAIN})(?::\\d{2,5})?(?:/${NOT_SPACE}*)?`;

// ---- Identifiers and pointers ----

const UUID = `(?:[uU][rR][nN]:[uU][uU][iI][dD]:)?${HEX}{8}-(?:${HEX}{4}-){3}${HEX}{12}`;
const POINTER_TOKEN = r`(?:[^~/"\\\x00-\x1f]|~[01])*`;
const JSON_POINTER = `(?:/${POINTER_TOKEN})*`;
const JSON_POINTER_URI_FRAGMENT = `#(?:/(?:[a-zA-Z0-9_\\-.!$&'()*+,;:=@]|${PCT_ENCODED}|~[01])*)*`;
const RELATIVE_JSON_POINTER = `(?:0|[1-9]\\d*)(?:#|${JSON_POINTER})`;
// RFC 4648 base64 with padding. ajv tests its regex with the `m` flag, so it also accepts any text
// with one such line between U+2028/U+2029 separators (or an empty one): not followed here.
const BASE64_CHAR = '[A-Za-z0-9+/]';
const BYTE = `(?:${BASE64_CHAR}{4})*(?:${BASE64_CHAR}{2}==|${BASE64_CHAR}{3}=)?`;

const FORMATS: Readonly<Record<string, string>> = {
  date: DATE,
  time: TIME,
  'date-time': `${DATE}${DATE_TIME_SEPARATOR}${TIME}`,
  'iso-time': ISO_TIME,
  'iso-date-time': `${DATE}${DATE_TIME_SEPARATOR}${ISO_TIME}`,
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
  // JSON Schema formats ajv-formats lacks: ASCII subsets of what the drafts define.
  'idn-email': EMAIL,
  'idn-hostname': IDN_HOSTNAME,
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
