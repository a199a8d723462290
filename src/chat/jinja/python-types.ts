// Python value types the library lacks: iterators, dict-item tuples, integer-keyed dicts and Markup strings.
import { ArrayValue, BooleanValue, ObjectValue, StringValue, isString, type ObjectRuntimeValue, type RuntimeValue } from './runtime.js';

/**
 * What jinja2's select, map, unique, reverse and items filters return: an iterator, which Python
 * treats as true even when empty and which has no len() and no JSON form.
 */
export class IteratorValue extends ArrayValue {
  constructor(
    items: RuntimeValue[],
    readonly pythonType: string,
  ) {
    super(items);
  }

  override __bool__(): RuntimeValue {
    return new BooleanValue(true);
  }
}

/** A pair from a dict's items: a list to the library (which unpacks only lists), a tuple to Python. */
export class PairValue extends ArrayValue {}

export function pairsOf(pairs: RuntimeValue[]): RuntimeValue[] {
  return pairs.map((pair) => new PairValue(pair.value));
}

export function isTuple(value: RuntimeValue): boolean {
  return value.type === 'TupleValue' || value instanceof PairValue;
}

/** A dict literal with integer keys (`{0: 0, 512: 128}`); the library's dicts only have string keys. */
export class IntegerKeyedDict extends ObjectValue {
  constructor(
    entries: Map<string, RuntimeValue>,
    readonly originalKeys: Map<string, RuntimeValue>,
  ) {
    super(entries);
  }

  override keys(): RuntimeValue {
    return new ArrayValue(Array.from(this.value.keys(), (key) => this.originalKeys.get(key)!));
  }

  override items(): RuntimeValue {
    return new ArrayValue(Array.from(this.value, ([key, item]) => new PairValue([this.originalKeys.get(key)!, item])));
  }
}

/** The key under which a dict stores `key`; undefined when no key of the dict can equal it. */
export function dictKey(dict: ObjectRuntimeValue, key: RuntimeValue): string | undefined {
  if (isString(key))
    return dict instanceof IntegerKeyedDict && dict.originalKeys.get(key.value)?.type !== 'StringValue' ? undefined : key.value;
  if (
    dict instanceof IntegerKeyedDict &&
    key.type === 'IntegerValue' &&
    dict.originalKeys.get(String(key.value))?.type === 'IntegerValue'
  ) {
    return String(key.value);
  }
  return undefined;
}

/** Strings made safe with `|safe`: jinja2 HTML-escapes a plain string added to one with `+`. */
export const markupStrings = new WeakSet<RuntimeValue>();

export function markup(text: string): RuntimeValue {
  const value = new StringValue(text);
  markupStrings.add(value);
  return value;
}
