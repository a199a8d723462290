// multipleOf as an automaton over a number's text, with the specification's meaning: the value
// divided by the step is an integer, in decimal arithmetic (floating-point validators disagree on
// some values: ajv finds 0.07 no multiple of 0.01, since 0.07 / 0.01 is 7.000000000000001 in
// doubles). With the step m = P / 10^k (P an integer), a text x is a multiple when x has at most
// k fraction digits (trailing zeros aside) and X = x·10^k is divisible by P: the automaton tracks
// the residue of the digits read so far modulo P.
import type { ExplicitDfa } from '../regex/explicit-dfa.js';
import { trim } from '../regular/index.js';
import { decimalOf } from './decimal.js';

const MAX_STATES = 4096;

export interface MultipleOf {
  dfa: ExplicitDfa;
  /** Fraction digits a multiple needs at most. */
  fractionDigits: number;
}

/** Undefined when the step's automaton would be too large. */
export function multipleOfDfa(step: number): MultipleOf | undefined {
  const d = decimalOf(step);
  const digits = BigInt(`${d.int}${d.frac}`);
  if (digits > BigInt(MAX_STATES)) return undefined;
  return build(Number(digits), d.frac.length);
}

/**
 * States: 0 the start (a sign may come), then for each residue r of the digits read so far,
 * `1 + r` before the point and, after it, `1 + m·(1 + f) + r` with f fraction digits read (f <= j).
 * Past j fraction digits only zeros may follow. Syntax is left to the range it is intersected with.
 */
function build(m: number, j: number): MultipleOf | undefined {
  const stateCount = 1 + m * (j + 2);
  if (stateCount > MAX_STATES) return undefined;
  // Classes: each digit, '-', '.', and everything else.
  const classOf = new Uint8Array(256).fill(12);
  classOf[0x2d] = 10;
  classOf[0x2e] = 11;
  for (let d = 0; d <= 9; d++) classOf[0x30 + d] = d;
  const classCount = 13;
  const next = new Int32Array(stateCount * classCount).fill(-1);
  const accepting = new Uint8Array(stateCount);
  const intState = (r: number) => 1 + r;
  const fracState = (f: number, r: number) => 1 + m * (1 + f) + r;
  const pow10 = (e: number) => Number(10n ** BigInt(e) % BigInt(m));
  const set = (from: number, byte: number, to: number) => (next[from * classCount + classOf[byte]] = to);
  set(0, 0x2d, 0);
  for (let d = 0; d <= 9; d++) set(0, 0x30 + d, intState(d % m));
  for (let r = 0; r < m; r++) {
    for (let d = 0; d <= 9; d++) set(intState(r), 0x30 + d, intState((10 * r + d) % m));
    set(intState(r), 0x2e, fracState(0, r));
    accepting[intState(r)] = (r * pow10(j)) % m === 0 ? 1 : 0;
    for (let f = 0; f <= j; f++) {
      const from = fracState(f, r);
      if (f < j) for (let d = 0; d <= 9; d++) set(from, 0x30 + d, fracState(f + 1, (10 * r + d) % m));
      else set(from, 0x30, from);
      accepting[from] = (r * pow10(j - f)) % m === 0 ? 1 : 0;
    }
  }
  return { dfa: trim({ stateCount, start: 0, accepting, classOf, classCount, next }), fractionDigits: j };
}
