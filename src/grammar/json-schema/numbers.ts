// `integer` and `number` with their bounds, formats and multipleOf. Bounded numbers are written
// without exponent (and with at most MAX_FRACTION fraction digits), compared exactly as decimals
// against bounds chosen so that the comparison is sound for validators that compare doubles:
// an inclusive bound is the double's own decimal (rounding is monotone), an exclusive one the next
// double's. multipleOf is a residue automaton over the digits, intersected with the range; only
// multiples that both the specification (decimal arithmetic) and validators dividing doubles (ajv,
// Python's jsonschema) accept are offered (see multiple-of.ts).
import { determinize, minimize, product, RegularError } from '../regular/index.js';
import { g } from '../cfg/index.js';
import type { ExplicitDfa } from '../regex/explicit-dfa.js';
import { type Decimal, decimalOf, nextDown, nextUp } from './decimal.js';
import { MAX_FRACTION, magnitudeRange } from './decimal-range.js';
import { naturalRange } from './integer-range.js';
import { multipleOfDfa } from './multiple-of.js';
import { alternatives, NEVER } from './regex-text.js';
import { SchemaError } from './schema-error.js';

const FRACTION = '(?:\\.\\d{1,300})?';
const EXPONENT = '(?:[eE][+-]?\\d{1,2})?';
// Integer part up to 200 digits and exponent up to 99: always finite.
export const ANY_NUMBER = `-?(?:0|[1-9]\\d{0,199})${FRACTION}${EXPONENT}`;
/** Numbers with multipleOf stay below this in magnitude, where doubles hold integers exactly. */
const MULTIPLE_LIMIT = 10 ** 15 - 1;
const PRODUCT_STATES = 50_000;

interface Bound {
  value: number;
  exclusive: boolean;
}

type Schema = Record<string, unknown>;

// ajv-formats' numeric formats: int32 and int64 bound the value (int64 narrowed to 18 digits,
// within its range), float and double constrain nothing. Other formats name string formats, which
// do not apply to numbers.
const NUMBER_FORMATS: Readonly<Record<string, { minimum: number; maximum: number }>> = {
  int32: { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  int64: { minimum: -1e18, maximum: 1e18 },
};

/**
 * The language of a number's text: a pattern of the regex dialect, or an automaton. `exact` when it
 * holds every valid text without exponent of at most 15 significant digits (see ir/language.ts).
 */
export type NumberLanguage = ({ pattern: string } | { dfa: ExplicitDfa }) & { exact: boolean };

/** Integers a double holds exactly: every JSON parser reads these as the same integer. */
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * `zeroFraction`: an integer may be written with a zero fraction (1.0), as drafts 6 and later say
 * (any number with a zero fractional part); draft 4 counts only texts without fraction.
 * `safeIntegers`: integers stay within ±(2^53-1) where the schema bounds them less (generation: a
 * model cannot write hundreds of digits, and JavaScript reads every value exactly).
 */
export function numberLanguage(schema: Schema, integer: boolean, path: string, zeroFraction = false, safeIntegers = false): NumberLanguage {
  const integers = (lower: Bound | undefined, upper: Bound | undefined) =>
    `(?:${integerRange(lower, upper)})${zeroFraction ? '(?:\\.0{1,20})?' : ''}`;
  const format =
    typeof schema.format === 'string' && Object.hasOwn(NUMBER_FORMATS, schema.format) ? NUMBER_FORMATS[schema.format] : undefined;
  if (format) integer = true;
  // int64 is narrowed to 18 digits: its language is then not exact.
  const exactFormat = schema.format !== 'int64';
  let lower = bound(schema, 'minimum', 'exclusiveMinimum', path);
  let upper = bound(schema, 'maximum', 'exclusiveMaximum', path);
  if (format) {
    if (!lower || lower.value < format.minimum) lower = { value: format.minimum, exclusive: false };
    if (!upper || upper.value > format.maximum) upper = { value: format.maximum, exclusive: false };
  }
  if (integer && safeIntegers) {
    if (!lower || lower.value < -SAFE_INTEGER) lower = { value: -SAFE_INTEGER, exclusive: false };
    if (!upper || upper.value > SAFE_INTEGER) upper = { value: SAFE_INTEGER, exclusive: false };
  }
  const step = schema.multipleOf;
  if (step === undefined) {
    if (!lower && !upper) return { pattern: integer ? integers(undefined, undefined) : ANY_NUMBER, exact: exactFormat };
    return { pattern: integer ? integers(lower, upper) : numberRange(lower, upper), exact: exactFormat };
  }
  if (typeof step !== 'number' || !(step > 0) || !Number.isFinite(step))
    throw new SchemaError('multipleOf must be a number above 0', `${path}/multipleOf`);
  const multiple = multipleOfDfa(step, integer);
  if (multiple === undefined) {
    throw new SchemaError(
      `multipleOf ${step} is not supported: its multiples are not exact in floating point, or need too large an automaton`,
      `${path}/multipleOf`,
    );
  }
  // Multiples are written within the exact integers of doubles.
  if (!lower || lower.value < -MULTIPLE_LIMIT) lower = { value: -MULTIPLE_LIMIT, exclusive: false };
  if (!upper || upper.value > MULTIPLE_LIMIT) upper = { value: MULTIPLE_LIMIT, exclusive: false };
  const range = integer || multiple.integersOnly ? integers(lower, upper) : numberRange(lower, upper, multiple.fractionDigits);
  try {
    return {
      dfa: minimize(product(determinize(g.pattern(range)), multiple.dfa, 'and', PRODUCT_STATES)),
      exact: exactFormat && multiple.exact,
    };
  } catch (error) {
    if (error instanceof RegularError)
      throw new SchemaError(`multipleOf ${step} with this range needs too large an automaton`, `${path}/multipleOf`);
    throw error;
  }
}

function bound(schema: Schema, inclusiveKey: string, exclusiveKey: string, path: string): Bound | undefined {
  const inclusive = schema[inclusiveKey];
  const exclusive = schema[exclusiveKey];
  for (const [key, value] of [
    [inclusiveKey, inclusive],
    [exclusiveKey, exclusive],
  ] as const) {
    if (value !== undefined && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new SchemaError(`${key} must be a number`, `${path}/${key}`);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) throw new SchemaError(`${key} must be finite`, `${path}/${key}`);
  }
  // Draft 4 spells an exclusive bound as a boolean beside minimum/maximum.
  if (typeof exclusive === 'boolean') return typeof inclusive === 'number' ? { value: inclusive, exclusive } : undefined;
  const bounds: Bound[] = [];
  if (typeof inclusive === 'number') bounds.push({ value: inclusive, exclusive: false });
  if (typeof exclusive === 'number') bounds.push({ value: exclusive, exclusive: true });
  if (bounds.length < 2) return bounds[0];
  const lowerBound = inclusiveKey === 'minimum';
  // The tighter of the two.
  const [a, b] = bounds;
  if (a.value === b.value) return { value: a.value, exclusive: true };
  return a.value > b.value === lowerBound ? a : b;
}

function integerRange(lower: Bound | undefined, upper: Bound | undefined): string {
  const lo = lower === undefined ? undefined : lower.exclusive ? Math.floor(lower.value) + 1 : Math.ceil(lower.value);
  const hi = upper === undefined ? undefined : upper.exclusive ? Math.ceil(upper.value) - 1 : Math.floor(upper.value);
  if (lo !== undefined && hi !== undefined && hi < lo) return NEVER;
  const options: string[] = [];
  if (lo === undefined || lo < 0) {
    const magnitudeLow = hi !== undefined && hi < 0 ? BigInt(-hi) : 1n;
    options.push(prefixed('-', naturalRange(magnitudeLow, lo === undefined ? undefined : BigInt(-lo))));
  }
  if (hi === undefined || hi >= 0) options.push(naturalRange(BigInt(Math.max(lo ?? 0, 0)), hi === undefined ? undefined : BigInt(hi)));
  return alternatives(options);
}

/**
 * Decimals (no exponent) in the range. An exclusive bound becomes the inclusive bound of the next
 * double beyond it: any text at least that far rounds to a double past the bound.
 */
function numberRange(lower: Bound | undefined, upper: Bound | undefined, maxFraction = MAX_FRACTION): string {
  const lo = lower === undefined ? undefined : decimalOf(lower.exclusive ? nextUp(lower.value) : lower.value);
  const hi = upper === undefined ? undefined : decimalOf(upper.exclusive ? nextDown(upper.value) : upper.value);
  const zero: Decimal = { negative: false, int: 0n, frac: '' };
  const options: string[] = [];
  // Negative texts (and -0): magnitudes from max(0, -hi) up to -lo.
  if (lo === undefined || lo.negative || isZero(lo)) {
    const from = hi && hi.negative ? hi : zero;
    options.push(prefixed('-', magnitudeRange(from, lo, maxFraction)));
  }
  if (hi === undefined || !hi.negative) options.push(magnitudeRange(lo && !lo.negative ? lo : zero, hi, maxFraction));
  return alternatives(options);
}

function isZero(d: Decimal): boolean {
  return d.int === 0n && d.frac === '';
}

function prefixed(prefix: string, source: string): string {
  return source === NEVER ? NEVER : `${prefix}${source}`;
}
