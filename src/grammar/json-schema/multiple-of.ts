// multipleOf as an automaton over a number's text: the residue of its digits modulo M. The
// specification divides in decimal arithmetic; validators divide doubles (ajv and Python's
// jsonschema both test whether x / step is an integer, so ajv finds 0.07 no multiple of 0.01:
// 0.07 / 0.01 is 7.000000000000001). Only multiples both accept are offered:
// - a dyadic step p / 2^j (1, 7, 0.5, 2.5, 0.25: exactly a double): the multiples n·step, written
//   with at most j fraction digits, are doubles and divide exactly. With X = x·10^j (an integer),
//   x is a multiple when p·5^j divides X.
// - another step p / q (0.01, 0.3): its double is off by a relative error e; for integers x that
//   are multiples of p, x / step rounds back to the exact quotient when |e| < 2^-54, the half unit
//   of the quotient's last place. Such steps get integer multiples of p only; others are refused.
import type { ExplicitDfa } from '../regex/explicit-dfa.js';
import { trim } from '../regular/index.js';
import { fractionOf } from './decimal.js';

const MAX_STATES = 4096;

export interface MultipleOf {
  dfa: ExplicitDfa;
  /** Only integer texts are multiples (then ranges need no fraction). */
  integersOnly: boolean;
  /** Fraction digits a multiple needs at most. */
  fractionDigits: number;
  /** Whether every multiple (as validators judge them) is accepted. */
  exact: boolean;
}

export function multipleOfDfa(step: number, integer: boolean): MultipleOf | undefined {
  const { p, q } = fractionOf(step);
  const twos = powerOfTwo(q);
  if (twos !== undefined) {
    const m = p * 5n ** BigInt(twos);
    if (integer || twos === 0) return build(m, 0, true, true);
    return build(m, twos, false, true);
  }
  if (!exactEnough(step, p, q)) return undefined;
  // Non-integer multiples that happen to divide exactly are left out: not exact.
  return build(p, 0, true, integer);
}

function powerOfTwo(q: bigint): number | undefined {
  let k = 0;
  while (q % 2n === 0n) {
    q /= 2n;
    k++;
  }
  return q === 1n ? k : undefined;
}

/** Whether the double of step p/q is within a relative 2^-54 of p/q. */
function exactEnough(step: number, p: bigint, q: bigint): boolean {
  // The double as an exact fraction: mantissa · 2^exponent.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, step);
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (exponentBits === 0) return false;
  const mantissa = fraction | (1n << 52n);
  const exponent = exponentBits - 1075;
  // |double - p/q| / (p/q) < 2^-54  <=>  |mantissa·2^e·q - p| · 2^54 < p, scaled to integers.
  const scale = exponent < 0 ? 1n << BigInt(-exponent) : 1n;
  const doubleTimesQ = exponent < 0 ? mantissa * q : mantissa * q * (1n << BigInt(exponent));
  const difference = doubleTimesQ - p * scale;
  return (difference < 0n ? -difference : difference) * (1n << 54n) < p * scale;
}

/**
 * States: 0 the start (a sign may come), then for each residue r of the digits read so far,
 * `1 + r` before the point and, after it, `1 + m·(1 + f) + r` with f fraction digits read (f <= j).
 * Past j fraction digits only zeros may follow. Syntax is left to the range it is intersected with.
 */
function build(mBig: bigint, j: number, integersOnly: boolean, exact: boolean): MultipleOf | undefined {
  if (mBig > BigInt(MAX_STATES)) return undefined;
  const m = Number(mBig);
  const stateCount = 1 + m * (j + 2);
  if (stateCount > MAX_STATES) return undefined;
  // Classes: '-', '.', each digit, and everything else.
  const classOf = new Uint8Array(256).fill(12);
  classOf[0x2d] = 10;
  classOf[0x2e] = 11;
  for (let d = 0; d <= 9; d++) classOf[0x30 + d] = d;
  const classCount = 13;
  const next = new Int32Array(stateCount * classCount).fill(-1);
  const accepting = new Uint8Array(stateCount);
  const intState = (r: number) => 1 + r;
  const fracState = (f: number, r: number) => 1 + m * (1 + f) + r;
  const pow10 = (e: number) => Number(10n ** BigInt(e) % mBig);
  const set = (from: number, byte: number, to: number) => (next[from * classCount + classOf[byte]] = to);
  set(0, 0x2d, 0);
  for (let d = 0; d <= 9; d++) set(0, 0x30 + d, intState(d % m));
  for (let r = 0; r < m; r++) {
    for (let d = 0; d <= 9; d++) set(intState(r), 0x30 + d, intState((10 * r + d) % m));
    if (!integersOnly || j === 0) set(intState(r), 0x2e, fracState(0, r));
    accepting[intState(r)] = (r * pow10(j)) % m === 0 ? 1 : 0;
    for (let f = 0; f <= j; f++) {
      const from = fracState(f, r);
      if (f < j) for (let d = 0; d <= 9; d++) set(from, 0x30 + d, fracState(f + 1, (10 * r + d) % m));
      else set(from, 0x30, from);
      accepting[from] = (r * pow10(j - f)) % m === 0 ? 1 : 0;
    }
  }
  return { dfa: trim({ stateCount, start: 0, accepting, classOf, classCount, next }), integersOnly, fractionDigits: j, exact };
}
