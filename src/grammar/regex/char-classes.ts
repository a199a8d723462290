// The predefined classes, with ECMAScript's meaning (JSON Schema's `pattern` is ECMA-262): \d and
// \w are ASCII-only even with the u flag, \s is Unicode White_Space plus U+FEFF. Python's re gives
// \d, \w and \s Unicode meanings on str patterns; patterns that rely on those differ here.
import { type CodePointSet, complement, normalize } from './code-point-set.js';

const DIGIT = normalize([[0x30, 0x39]]);
const WORD = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
const SPACE = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);

/**
 * `.` is any code point but the four line terminators, as in JavaScript without the s flag (\n,
 * \r, U+2028, U+2029). Python's `.` refuses only \n; the JavaScript reading is kept so that a
 * pattern means here what it means to a JSON Schema validator.
 */
export const DOT: CodePointSet = complement(
  normalize([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);

const CLASS_ESCAPES: Readonly<Record<string, CodePointSet>> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};

/** The set of `\d`, `\D`, `\w`, `\W`, `\s` or `\S` from its letter, else undefined. */
export function classEscape(letter: string): CodePointSet | undefined {
  return Object.hasOwn(CLASS_ESCAPES, letter) ? CLASS_ESCAPES[letter] : undefined;
}
