// The names transformers gives every chat template: true/True/none..., range, raise_exception, strftime_now.
import { strftime } from './strftime.js';

/** Thrown by the template's `raise_exception(msg)`; carries the template's own message. */
class RaisedByTemplate extends Error {}

function raiseException(message: unknown): never {
  throw new RaisedByTemplate(String(message));
}

/** jinja2's sandbox refuses ranges longer than this. */
const MAX_RANGE = 100_000;

function pythonRange(...args: number[]): number[] {
  const [start, stop, step] = args.length === 1 ? [0, args[0], 1] : [args[0], args[1], args[2] ?? 1];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  if (Math.ceil((stop - start) / step) > MAX_RANGE)
    throw new Error(`Range too big. The sandbox blocks ranges larger than MAX_RANGE (${MAX_RANGE}).`);
  const values: number[] = [];
  for (let value = start; step > 0 ? value < stop : value > stop; value += step) values.push(value);
  return values;
}

/** The globals, as plain values for the library's Environment.set; `strftime_now` reads `now`, else the clock. */
export function templateGlobals(now: Date | undefined): Record<string, unknown> {
  return {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range: pythonRange,
    raise_exception: raiseException,
    strftime_now: (format: string) => strftime(now ?? new Date(), format),
  };
}
