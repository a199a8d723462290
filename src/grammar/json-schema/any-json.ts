// Any JSON value, for `true`, `{}` and unconstrained additional properties and items. A regex
// cannot count brackets, so arrays and objects nest at most ANY_VALUE_DEPTH levels; deeper values
// are not generated (sound: the grammar only ever narrows). Each level roughly quadruples the
// regex (about 1,400 characters at depth 1, 5,900 at depth 2, against a 10,000 limit), so a
// value inside a schema nests one level, a schema that is nothing but "any value" two.
import { ANY_STRING } from './json-string.js';
import { ANY_NUMBER } from './numbers.js';
import { WS } from './regex-text.js';

const SCALAR = `(?:${ANY_STRING}|${ANY_NUMBER}|true|false|null)`;

export function anyValue(depth: number): string {
  if (depth === 0) return SCALAR;
  const inner = anyValue(depth - 1);
  const array = `\\[${WS}(?:${inner}(?:${WS},${WS}${inner})*)?${WS}\\]`;
  const member = `${ANY_STRING}${WS}:${WS}${inner}`;
  const object = `\\{${WS}(?:${member}(?:${WS},${WS}${member})*)?${WS}\\}`;
  return `(?:${SCALAR}|${array}|${object})`;
}

export const ANY_VALUE = anyValue(1);
export const ANY_TOP_LEVEL_VALUE = anyValue(2);
