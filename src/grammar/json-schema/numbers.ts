// `integer` and `number` with their bounds. Integers are written without fraction or exponent.
// Bounded numbers are supported when the bounds are integers: the value is then written without
// exponent and compared by its integer part and whether its fraction is zero.
import { MAX_DIGITS, naturalRange } from './integer-range.js';
import { alternatives, NEVER } from './regex-text.js';
import { SchemaError } from './schema-error.js';

const FRACTION = '(?:\\.\\d{1,300})?';
const NONZERO_FRACTION = '\\.\\d{0,299}[1-9]\\d{0,299}';
const ZERO_FRACTION = '(?:\\.0{1,300})?';
const EXPONENT = '(?:[eE][+-]?\\d{1,2})?';
const NATURAL = `(?:0|[1-9]\\d{0,${MAX_DIGITS - 1}})`;
// Integer part up to 200 digits and exponent up to 99: always finite.
export const ANY_NUMBER = `-?(?:0|[1-9]\\d{0,199})${FRACTION}${EXPONENT}`;
export const ANY_INTEGER = `-?${NATURAL}`;

interface Bound {
  value: number;
  exclusive: boolean;
}

type Schema = Record<string, unknown>;

// ajv-formats' numeric formats: int32 and int64 bound the value (int64 narrowed to 18 digits,
// within its range), float and double constrain nothing.
const NUMBER_FORMATS: Readonly<Record<string, { minimum: number; maximum: number } | undefined>> = {
  int32: { minimum: -(2 ** 31), maximum: 2 ** 31 - 1 },
  int64: { minimum: -1e18, maximum: 1e18 },
  float: undefined,
  double: undefined,
};

export function numberRegex(schema: Schema, integer: boolean, path: string): string {
  if (schema.format !== undefined) {
    const format = schema.format;
    if (typeof format !== 'string' || !Object.hasOwn(NUMBER_FORMATS, format)) {
      throw new SchemaError(`format ${JSON.stringify(format)} is not supported for numbers`, `${path}/format`);
    }
    const range = NUMBER_FORMATS[format];
    if (range) {
      const { format: _, ...rest } = schema;
      const tighter = (key: 'minimum' | 'maximum', pick: (a: number, b: number) => number) =>
        typeof rest[key] === 'number' ? pick(rest[key] as number, range[key]) : range[key];
      return numberRegex({ ...rest, minimum: tighter('minimum', Math.max), maximum: tighter('maximum', Math.min) }, integer || format.startsWith('int'), path);
    }
  }
  if (schema.multipleOf !== undefined) {
    const step = schema.multipleOf;
    if (step !== 1 || (!integer && !Number.isInteger(step))) {
      throw new SchemaError(`multipleOf ${JSON.stringify(step)} is not supported`, `${path}/multipleOf`);
    }
    integer = true;
  }
  const lower = bound(schema, 'minimum', 'exclusiveMinimum', path);
  const upper = bound(schema, 'maximum', 'exclusiveMaximum', path);
  if (!lower && !upper) return integer ? ANY_INTEGER : ANY_NUMBER;
  return integer ? integerRange(lower, upper) : numberRange(lower, upper, path);
}

function bound(schema: Schema, inclusiveKey: string, exclusiveKey: string, path: string): Bound | undefined {
  const inclusive = schema[inclusiveKey];
  const exclusive = schema[exclusiveKey];
  for (const [key, value] of [[inclusiveKey, inclusive], [exclusiveKey, exclusive]] as const) {
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
  return (a.value > b.value) === lowerBound ? a : b;
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

function numberRange(lower: Bound | undefined, upper: Bound | undefined, path: string): string {
  for (const [key, b] of [['minimum', lower], ['maximum', upper]] as const) {
    if (b && !Number.isInteger(b.value)) {
      throw new SchemaError(`a non-integer ${key} of a number is not supported`, `${path}/${key}`);
    }
  }
  const options: string[] = [];
  if (!lower || lower.value < 0) {
    const from = upper && upper.value <= 0 ? { value: -upper.value, exclusive: upper.exclusive } : { value: 0, exclusive: false };
    const to = lower ? { value: -lower.value, exclusive: lower.exclusive } : undefined;
    options.push(prefixed('-', magnitudeRange(from, to)));
  }
  if (!upper || upper.value > 0 || (upper.value === 0 && !upper.exclusive)) {
    const from = lower && lower.value >= 0 ? lower : { value: 0, exclusive: false };
    options.push(magnitudeRange(from, upper));
  }
  return alternatives(options);
}

/** Non-negative decimals (integer part, optional fraction) between two integer bounds. */
function magnitudeRange(from: Bound, to: Bound | undefined): string {
  const a = BigInt(from.value);
  if (to !== undefined) {
    const b = BigInt(to.value);
    if (b < a) return NEVER;
    if (a === b) return from.exclusive || to.exclusive ? NEVER : `${a}${ZERO_FRACTION}`;
  }
  const options: string[] = [];
  options.push(from.exclusive ? `${a}${NONZERO_FRACTION}` : `${a}${FRACTION}`);
  const inner = naturalRange(a + 1n, to === undefined ? undefined : BigInt(to.value) - 1n);
  if (inner !== NEVER) options.push(`${inner}${FRACTION}`);
  if (to !== undefined && !to.exclusive) options.push(`${BigInt(to.value)}${ZERO_FRACTION}`);
  return alternatives(options);
}

function prefixed(prefix: string, source: string): string {
  return source === NEVER ? NEVER : `${prefix}${source}`;
}

export { NATURAL };
