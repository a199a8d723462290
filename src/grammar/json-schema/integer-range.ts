// Decimal integers in a range as a regex over their digits (no sign, no leading zeros), built
// digit position by digit position: linear in the number of digits.
import { alternatives } from './regex-text.js';

/** Digits longer than this are refused by the unbounded forms: beyond it JSON.parse gives Infinity. */
const MAX_DIGITS = 300;

/** Non-negative integers in [lo, hi]; hi undefined means unbounded. */
export function naturalRange(lo: bigint, hi: bigint | undefined): string {
  if (hi !== undefined && hi < lo) return alternatives([]);
  const loDigits = lo.toString();
  const options: string[] = [];
  const lastLength = hi === undefined ? MAX_DIGITS : hi.toString().length;
  for (let length = loDigits.length; length <= lastLength; length++) {
    const from = length === loDigits.length ? loDigits : '1' + '0'.repeat(length - 1);
    if (hi === undefined && length > loDigits.length) {
      options.push(`[1-9]\\d{${length - 1},${MAX_DIGITS - 1}}`);
      break;
    }
    const to = hi !== undefined && length === lastLength ? hi.toString() : '9'.repeat(length);
    options.push(sameLength(from, to));
  }
  return alternatives(options);
}

function sameLength(lo: string, hi: string): string {
  if (lo.length === 0) return '';
  if (lo === hi) return lo;
  if (lo[0] === hi[0]) return lo[0] + sameLength(lo.slice(1), hi.slice(1));
  const rest = lo.length - 1;
  const anyRest = rest === 0 ? '' : `\\d{${rest}}`;
  if (/^0*$/.test(lo.slice(1)) && /^9*$/.test(hi.slice(1))) return `${digitClass(+lo[0], +hi[0])}${anyRest}`;
  const options = [lo[0] + sameLength(lo.slice(1), '9'.repeat(rest))];
  if (+hi[0] - +lo[0] > 1) options.push(digitClass(+lo[0] + 1, +hi[0] - 1) + anyRest);
  options.push(hi[0] + sameLength('0'.repeat(rest), hi.slice(1)));
  return alternatives(options);
}

function digitClass(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `[${lo}-${hi}]`;
}
