// Exact decimals for JSON Schema's numeric keywords: bounds and steps are doubles, compared by
// validators as doubles, while a grammar reads the decimal text of a number. A Decimal is
// `int.frac` exactly (frac without trailing zeros), read from the shortest text of a double.

export interface Decimal {
  readonly negative: boolean;
  readonly int: bigint;
  /** Fraction digits, no trailing zeros ('' for an integer). */
  readonly frac: string;
}

/** The exact decimal a JavaScript number's shortest text spells (1e-7, 2.5e+30 included). */
export function decimalOf(value: number): Decimal {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not finite`);
  const text = String(Math.abs(value));
  const [mantissa, exponentText] = text.split('e');
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  const [whole, fraction = ''] = mantissa.split('.');
  let digits = whole + fraction;
  let point = whole.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const int = BigInt(digits.slice(0, point) || '0');
  const frac = digits.slice(point).replace(/0+$/, '');
  return { negative: value < 0 && (int !== 0n || frac !== ''), int, frac };
}

/** The next double up from `value` (towards +Infinity). */
export function nextUp(value: number): number {
  if (Number.isNaN(value) || value === Infinity) return value;
  if (value === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, value > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

export function nextDown(value: number): number {
  return -nextUp(-value);
}

/** Compares the magnitudes of two decimals. */
export function compareMagnitude(a: Decimal, b: Decimal): number {
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  const length = Math.max(a.frac.length, b.frac.length);
  const x = a.frac.padEnd(length, '0');
  const y = b.frac.padEnd(length, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `value` rounded to at most `digits` fraction digits, up (away from zero) or down (towards it). */
export function roundMagnitude(value: Decimal, digits: number, direction: 'up' | 'down'): Decimal {
  if (value.frac.length <= digits) return value;
  const kept = value.frac.slice(0, digits);
  if (direction === 'down') return { ...value, frac: kept.replace(/0+$/, '') };
  const scaled = BigInt(value.int.toString() + kept) + 1n;
  const text = scaled.toString().padStart(digits + 1, '0');
  return { ...value, int: BigInt(text.slice(0, text.length - digits)), frac: text.slice(text.length - digits).replace(/0+$/, '') };
}

/** A fraction p/q in lowest terms with q > 0, for the decimal of a JavaScript number. */
export function fractionOf(value: number): { p: bigint; q: bigint } {
  const d = decimalOf(value);
  let p = BigInt(d.int.toString() + d.frac);
  let q = 10n ** BigInt(d.frac.length);
  const divisor = gcd(p < 0n ? -p : p, q);
  p /= divisor;
  q /= divisor;
  return { p: d.negative ? -p : p, q };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
