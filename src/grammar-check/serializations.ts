// The texts a model may write for one JSON value: a constraint must accept each of them.
import { isLosslessNumber, LosslessNumber, stringify as losslessStringify } from 'lossless-json';
import { pythonJsonDumps } from './python-json.js';

export const SERIALIZATIONS = ['compact', 'python', 'indent2'] as const;
export type Serialization = (typeof SERIALIZATIONS)[number];

export interface Instance {
  /** As lossless-json reads it: numbers keep their source text (5.0 is a float, not the integer 5). */
  dataAsWritten: unknown;
}

export function serialize(instance: Instance, format: Serialization): string {
  switch (format) {
    case 'compact':
      return losslessStringify(instance.dataAsWritten)!;
    case 'python':
      return pythonJsonDumps(instance.dataAsWritten);
    case 'indent2':
      return losslessStringify(instance.dataAsWritten, null, 2)!;
  }
}

/**
 * The instance with every integral number written with a zero fraction (`5.0`, `-3.000`) written as
 * an integer (`5`, `-3`), as generation writes integers: drafts 6 and later count both as the same
 * valid integer, and the generation grammar offers only the second. Meant for valid instances only
 * (under draft 4 `5.0` is no integer, so an invalid instance could turn valid). Other numbers, and
 * every other value, are kept as written.
 */
export function withIntegerSyntax(instance: Instance): Instance {
  return { dataAsWritten: integersIn(instance.dataAsWritten) };
}

function integersIn(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    const zeroFraction = /^(-?)(\d+)\.0+$/.exec(value.value);
    if (!zeroFraction) return value;
    const [, sign, digits] = zeroFraction;
    return new LosslessNumber(digits === '0' ? '0' : `${sign}${digits}`);
  }
  if (Array.isArray(value)) return value.map(integersIn);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, integersIn(member)]));
  return value;
}
