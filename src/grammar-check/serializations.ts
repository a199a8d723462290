// The texts a model may write for one JSON value: a constraint must accept each of them.
import { pythonJsonDumps } from './python-json.js';

export const SERIALIZATIONS = ['compact', 'python', 'indent2'] as const;
export type Serialization = (typeof SERIALIZATIONS)[number];

export function serialize(data: unknown, format: Serialization): string {
  switch (format) {
    case 'compact':
      return JSON.stringify(data);
    case 'python':
      return pythonJsonDumps(data);
    case 'indent2':
      return JSON.stringify(data, null, 2);
  }
}
