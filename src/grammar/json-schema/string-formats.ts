// `format` as regexes that accept a subset of what ajv-formats (full mode) accepts: soundness
// first, so each is narrower where the standard is intricate (no leap seconds, `T` only as the
// date-time separator, simple email addresses, hostnames of short labels, http(s) URIs).
import { SchemaError } from './schema-error.js';

const MONTH_31 = '(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])';
const MONTH_30 = '(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)';
const FEBRUARY = '02-(?:0[1-9]|1\\d|2[0-8])';
const LEAP_YEAR = '(?:\\d\\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
const DATE = `(?:\\d{4}-(?:${MONTH_31}|${MONTH_30}|${FEBRUARY})|${LEAP_YEAR}-02-29)`;
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?(?:[Zz]|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const HEX = '[0-9a-fA-F]';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?';
const HOSTNAME = `${LABEL}(?:\\.${LABEL}){0,7}`;
const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

const FORMATS: Readonly<Record<string, string>> = {
  date: DATE,
  time: TIME,
  'date-time': `${DATE}T${TIME}`,
  uuid: `${HEX}{8}-${HEX}{4}-${HEX}{4}-${HEX}{4}-${HEX}{12}`,
  email: `[A-Za-z0-9_%+-]{1,64}(?:\\.[A-Za-z0-9_%+-]{1,64}){0,3}@${LABEL}(?:\\.${LABEL}){0,3}\\.[A-Za-z]{2,8}`,
  ipv4: `${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}`,
  hostname: HOSTNAME,
  uri: `https?://${HOSTNAME}(?::\\d{1,5})?(?:/[A-Za-z0-9._~-]{0,64}){0,8}(?:\\?[A-Za-z0-9._~=&-]{0,128})?`,
};

/** The string's content (between the quotes): none of these can contain a character JSON escapes. */
export function formatContent(format: unknown, path: string): string {
  if (typeof format !== 'string' || !Object.hasOwn(FORMATS, format)) {
    throw new SchemaError(`format ${JSON.stringify(format)} is not supported`, `${path}/format`);
  }
  return FORMATS[format];
}
