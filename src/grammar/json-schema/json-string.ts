// JSON string syntax. An escape counts as one character, as it decodes to one; a surrogate pair of
// \u escapes (how Python writes an emoji) is one escape. Lone surrogates are left out.
import { SchemaError } from './schema-error.js';
import { DEFAULT_REGEX_LIMITS } from '../regex/index.js';

/** A raw character that needs no escaping in JSON: decodes to itself. */
export const PLAIN_CHAR = '[^"\\\\\\u{0}-\\u{1f}]';
const ESCAPE = '\\\\(?:["\\\\/bfnrt]|u(?:[0-9a-cA-CefEF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}|[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}))';
export const STRING_CHAR = `(?:${PLAIN_CHAR}|${ESCAPE})`;
export const ANY_STRING = `"${STRING_CHAR}*"`;

export function lengthBoundedString(min: number, max: number | undefined, path: string): string {
  const limit = DEFAULT_REGEX_LIMITS.maxRepetition;
  if (min > limit) throw new SchemaError(`minLength ${min} is beyond the supported ${limit}`, `${path}/minLength`);
  if (max !== undefined && max > limit) throw new SchemaError(`maxLength ${max} is beyond the supported ${limit}`, `${path}/maxLength`);
  if (max !== undefined && max < min) throw new SchemaError('maxLength is below minLength: no string is valid', `${path}/maxLength`);
  if (min === 0 && max === undefined) return ANY_STRING;
  return `"${STRING_CHAR}{${min},${max ?? ''}}"`;
}
