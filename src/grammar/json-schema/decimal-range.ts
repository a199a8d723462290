// Non-negative decimals written `I` or `I.F` (I without leading zeros, F of 1 to MAX_FRACTION
// digits) whose value lies between two inclusive decimal bounds, as a regex over their digits.
// Integer parts go through naturalRange; fractions are compared digit by digit, so the regex is
// linear in the digits of the bounds.
import type { Decimal } from './decimal.js';
import { compareMagnitude, roundMagnitude } from './decimal.js';
import { naturalRange } from './integer-range.js';
import { alternatives, NEVER } from './regex-text.js';

/** Fraction digits a bounded number may have. */
export const MAX_FRACTION = 20;

/**
 * Magnitudes in [lo, hi] (hi undefined: no upper bound) with at most `maxFraction` fraction
 * digits; the signs of lo and hi are ignored.
 */
export function magnitudeRange(lo: Decimal, hi: Decimal | undefined, maxFraction = MAX_FRACTION): string {
  const low = roundMagnitude(lo, maxFraction, 'up');
  const high = hi && roundMagnitude(hi, maxFraction, 'down');
  if (high && compareMagnitude(high, low) < 0) return NEVER;
  const f = new Fractions(maxFraction);
  if (high && high.int === low.int) return prefixed(String(low.int), f.between(low.frac, high.frac));
  const options = [prefixed(String(low.int), f.atLeast(low.frac))];
  const inner = naturalRange(low.int + 1n, high === undefined ? undefined : high.int - 1n);
  if (inner !== NEVER) options.push(`${inner}${f.any()}`);
  if (high) options.push(prefixed(String(high.int), f.atMost(high.frac)));
  return alternatives(options);
}

/** The optional `.F` part of a number, by how its value 0.F compares with fixed fractions. */
class Fractions {
  constructor(private readonly room: number) {}

  any(): string {
    return this.room === 0 ? '' : `(?:\\.\\d{1,${this.room}})?`;
  }

  /** 0.F >= 0.f */
  atLeast(f: string): string {
    if (f === '') return this.any();
    return prefixed('\\.', atLeast(f, this.room));
  }

  /** 0.F <= 0.f (no fraction at all is 0) */
  atMost(f: string): string {
    if (this.room === 0) return '';
    if (f === '') return `(?:\\.0{1,${this.room}})?`;
    return `(?:\\.${atMost(f, this.room)})?`;
  }

  between(f: string, g: string): string {
    if (f === '') return this.atMost(g);
    return prefixed('\\.', between(f, g, this.room));
  }
}

/** 1 to `room` digits D with 0.D >= 0.f (f non-empty). */
function atLeast(f: string, room: number): string {
  if (f === '') return `\\d{0,${room}}`;
  if (room === 0) return NEVER;
  const first = +f[0];
  const options: string[] = [];
  if (first < 9) options.push(`${digits(first + 1, 9)}\\d{0,${room - 1}}`);
  options.push(prefixed(f[0], atLeast(f.slice(1), room - 1)));
  return alternatives(options);
}

/** 1 to `room` digits D with 0.D <= 0.f, or none when f is exhausted (the rest all zeros). */
function atMost(f: string, room: number): string {
  if (f === '') return `0{0,${room}}`;
  if (room === 0) return '';
  const first = +f[0];
  const options: string[] = [];
  if (first > 0) options.push(`${digits(0, first - 1)}\\d{0,${room - 1}}`);
  options.push(prefixed(f[0], atMost(f.slice(1), room - 1)));
  return alternatives(options);
}

/** Digits D with 0.f <= 0.D <= 0.g, f <= g, f non-empty. */
function between(f: string, g: string, room: number): string {
  if (f === '') return atMost(g, room);
  if (room === 0) return NEVER;
  const [a, b] = [+f[0], +(g[0] ?? '0')];
  if (a === b) return prefixed(f[0], between(f.slice(1), g.slice(1), room - 1));
  const options = [prefixed(f[0], atLeast(f.slice(1), room - 1))];
  if (b - a > 1) options.push(`${digits(a + 1, b - 1)}\\d{0,${room - 1}}`);
  options.push(prefixed(String(b), atMost(g.slice(1), room - 1)));
  return alternatives(options);
}

function digits(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `[${lo}-${hi}]`;
}

function prefixed(prefix: string, source: string): string {
  return source === NEVER ? NEVER : `${prefix}${source}`;
}
