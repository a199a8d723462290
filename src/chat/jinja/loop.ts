// jinja2's for-loop support: the `loop` variable and the break/continue signal.
import { ArrayValue, BooleanValue, FunctionValue, IntegerValue, ObjectValue, UndefinedValue, type RuntimeValue } from './runtime.js';
import { pythonEquals } from './python-values.js';

/** `{% break %}` or `{% continue %}` on its way to its loop, with the output the iteration made before it. */
export class LoopControl extends Error {
  partialOutput = '';

  constructor(readonly kind: 'break' | 'continue') {
    super(`{% ${kind} %} outside of a for loop`);
  }
}

/** jinja2's `loop` inside a for loop. */
export function loopObject(items: RuntimeValue[], index: number, changedSince: { last: RuntimeValue[] | undefined }): RuntimeValue {
  const count = items.length;
  const fields: Record<string, RuntimeValue> = {
    index: new IntegerValue(index + 1),
    index0: new IntegerValue(index),
    revindex: new IntegerValue(count - index),
    revindex0: new IntegerValue(count - index - 1),
    first: new BooleanValue(index === 0),
    last: new BooleanValue(index === count - 1),
    length: new IntegerValue(count),
    depth: new IntegerValue(1),
    depth0: new IntegerValue(0),
    previtem: index > 0 ? items[index - 1] : new UndefinedValue(),
    nextitem: index < count - 1 ? items[index + 1] : new UndefinedValue(),
    cycle: new FunctionValue((values) => {
      if (values.length === 0) throw new Error('no items for cycling given');
      return values[index % values.length];
    }),
    changed: new FunctionValue((values) => {
      const changed = changedSince.last === undefined || !pythonEquals(new ArrayValue(values), new ArrayValue(changedSince.last));
      changedSince.last = values;
      return new BooleanValue(changed);
    }),
  };
  return new ObjectValue(new Map(Object.entries(fields)));
}
