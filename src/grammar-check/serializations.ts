// The texts a model may write for one JSON value: a constraint must accept each of them.
import { stringify as losslessStringify } from 'lossless-json';
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
