// jinja2's filters and tests where the library lacks them or differs from jinja2.
import {
  ArrayValue,
  FloatValue,
  IntegerValue,
  StringValue,
  UndefinedValue,
  evaluated,
  isDict,
  isList,
  isNumber,
  isString,
  type Arguments,
  type Environment,
  type RuntimeValue,
  type SyntaxNode,
  type TestFunction,
} from './runtime.js';
import { IntegerKeyedDict, IteratorValue, markup, markupStrings, pairsOf } from './python-types.js';
import { compareCodePoints, pythonEquals, pythonIteration, pythonLength, pythonStr, pythonTypeName } from './python-values.js';
import { transformersToJson } from './python-json.js';
import { pythonCapitalize, pythonIndent, pythonStrip } from './python-strings.js';

/** What select and map need from the interpreter that runs the filter. */
export interface FilterHost {
  environment: Environment;
  /** Runs `operand|filter`, where filter is a filter name or a call of one with arguments. */
  runFilter(filter: SyntaxNode, operand: RuntimeValue): RuntimeValue;
}

/** Filters left to the library that read their input as text (jinja2 converts it with str() first). */
export const TEXT_FILTERS = new Set(['upper', 'lower', 'title', 'replace']);

/** Tests where jinja2 disagrees with the library. */
export const TESTS: Record<string, (value: RuntimeValue) => boolean> = {
  iterable: (value) => isList(value) || isString(value) || isDict(value) || value.type === 'UndefinedValue',
  sequence: (value) => (isList(value) && !(value instanceof IteratorValue)) || isString(value) || isDict(value),
  number: isNumber,
  float: (value) => value.type === 'FloatValue',
};

/**
 * The filters implemented here; undefined for those left to the library. The arguments are evaluated
 * only when a filter here asks for them.
 */
export function jinja2Filter(
  name: string,
  operand: RuntimeValue,
  argumentsOf: () => Arguments,
  host: FilterHost,
): RuntimeValue | undefined {
  switch (name) {
    case 'tojson':
      return new StringValue(transformersToJson(operand, ...argumentsOf()));
    case 'string':
      return isString(operand) ? operand : new StringValue(pythonStr(operand));
    case 'safe':
      return markupStrings.has(operand) ? operand : markup(pythonStr(operand));
    case 'trim':
      return trimFilter(operand, argumentsOf());
    case 'indent':
      return new StringValue(pythonIndent(pythonStr(operand), ...argumentsOf()));
    case 'capitalize':
      return new StringValue(pythonCapitalize(pythonStr(operand)));
    case 'length':
    case 'count':
      return new IntegerValue(pythonLength(operand));
    case 'list':
      return new ArrayValue(pythonIteration(operand));
    case 'first':
      return pythonIteration(operand)[0] ?? new UndefinedValue();
    case 'last':
      if (operand instanceof IteratorValue) throw new Error(`'${operand.pythonType}' object is not reversible`);
      return pythonIteration(operand).at(-1) ?? new UndefinedValue();
    case 'join':
      return joinFilter(operand, argumentsOf());
    case 'int':
    case 'float': {
      const [[fallback], named] = argumentsOf();
      if (name === 'int') return pythonInt(operand, fallback ?? named.get('default') ?? new IntegerValue(0));
      return pythonFloat(operand, fallback ?? named.get('default') ?? new FloatValue(0));
    }
    case 'min':
    case 'max':
      return extremeOf(pythonIteration(operand), name === 'max', ...argumentsOf());
    case 'unique':
      return new IteratorValue(uniqueOf(pythonIteration(operand), ...argumentsOf()), 'generator');
    case 'reverse':
      return reverseFilter(operand);
    case 'items':
      return itemsFilter(operand);
    case 'dictsort':
      if (operand instanceof IntegerKeyedDict) return dictsortFilter(operand, argumentsOf());
      return undefined;
    case 'select':
    case 'reject':
      return selectFilter(operand, name === 'select', undefined, argumentsOf(), host.environment);
    case 'selectattr':
    case 'rejectattr': {
      const [[attribute, ...rest], named] = argumentsOf();
      return selectFilter(operand, name === 'selectattr', String(attribute?.value), [rest, named], host.environment);
    }
    case 'map':
      return mapFilter(operand, argumentsOf(), host);
    default:
      return undefined;
  }
}

/** jinja2's attribute lookup for filters: dotted path, integer parts index lists. */
function attributeOf(item: RuntimeValue, path: string): RuntimeValue {
  let value = item;
  for (const part of path.split('.')) {
    const next =
      value.value instanceof Map
        ? value.value.get(part)
        : Array.isArray(value.value) && /^\d+$/.test(part)
          ? value.value[Number(part)]
          : undefined;
    if (next === undefined) return new UndefinedValue();
    value = next;
  }
  return value;
}

function orderingKey(value: RuntimeValue, caseSensitive: boolean): number | string {
  if (isNumber(value)) return Number(value.value);
  if (isString(value)) return caseSensitive ? value.value : value.value.toLowerCase();
  throw new Error(`'<' not supported between instances of '${pythonTypeName(value)}'`);
}

function compareKeys(a: number | string, b: number | string): number {
  if (typeof a !== typeof b)
    throw new Error(
      `'<' not supported between instances of '${typeof a === 'number' ? 'int' : 'str'}' and '${typeof b === 'number' ? 'int' : 'str'}'`,
    );
  return typeof a === 'string' ? compareCodePoints(a, b as string) : a - (b as number);
}

/** jinja2's `min`/`max(value, case_sensitive=False, attribute=None)`. */
function extremeOf(items: RuntimeValue[], largest: boolean, positional: RuntimeValue[], named: Map<string, RuntimeValue>): RuntimeValue {
  const caseSensitive = Boolean((named.get('case_sensitive') ?? positional[0])?.value);
  const attribute = named.get('attribute') ?? positional[1];
  const keyOf = (item: RuntimeValue) =>
    orderingKey(attribute && attribute.type !== 'NullValue' ? attributeOf(item, String(attribute.value)) : item, caseSensitive);
  let best: RuntimeValue | undefined;
  for (const item of items) {
    const order = best === undefined ? 0 : compareKeys(keyOf(item), keyOf(best));
    if (best === undefined || (largest ? order > 0 : order < 0)) best = item;
  }
  return best ?? new UndefinedValue();
}

/** jinja2's `unique(case_sensitive=False, attribute=None)`: first of each, strings compared case-insensitively. */
function uniqueOf(items: RuntimeValue[], positional: RuntimeValue[], named: Map<string, RuntimeValue>): RuntimeValue[] {
  const caseSensitive = Boolean((named.get('case_sensitive') ?? positional[0])?.value);
  const attribute = named.get('attribute') ?? positional[1];
  const seen: RuntimeValue[] = [];
  const kept: RuntimeValue[] = [];
  for (const item of items) {
    let key = attribute && attribute.type !== 'NullValue' ? attributeOf(item, String(attribute.value)) : item;
    if (isString(key) && !caseSensitive) key = new StringValue(key.value.toLowerCase());
    if (!seen.some((other) => pythonEquals(other, key))) {
      seen.push(key);
      kept.push(item);
    }
  }
  return kept;
}

function pythonInt(value: RuntimeValue, fallback: RuntimeValue): RuntimeValue {
  if (value.type === 'IntegerValue') return value;
  if (isNumber(value)) return new IntegerValue(Math.trunc(Number(value.value)));
  if (!isString(value)) return fallback;
  const text = (value.value as string).trim().replaceAll('_', '');
  if (/^[+-]?\d+$/.test(text)) return new IntegerValue(Number.parseInt(text, 10));
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return new IntegerValue(Math.trunc(Number(text)));
  return fallback;
}

function pythonFloat(value: RuntimeValue, fallback: RuntimeValue): RuntimeValue {
  if (isNumber(value)) return new FloatValue(Number(value.value));
  if (!isString(value)) return fallback;
  const text = (value.value as string).trim().replaceAll('_', '');
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return new FloatValue(Number(text));
  return fallback;
}

function trimFilter(operand: RuntimeValue, [positional, named]: Arguments): RuntimeValue {
  const trimmed = pythonStrip(pythonStr(operand), named.get('chars') ?? positional[0], 'both');
  return markupStrings.has(operand) ? markup(trimmed) : new StringValue(trimmed);
}

function joinFilter(operand: RuntimeValue, [positional, named]: Arguments): RuntimeValue {
  const separator = named.get('d') ?? positional[0];
  const attribute = named.get('attribute') ?? positional[1];
  const items = pythonIteration(operand).map((item) =>
    attribute && attribute.type !== 'NullValue' ? attributeOf(item, String(attribute.value)) : item,
  );
  return new StringValue(items.map(pythonStr).join(separator ? pythonStr(separator) : ''));
}

function reverseFilter(operand: RuntimeValue): RuntimeValue {
  if (isString(operand))
    return new StringValue(
      Array.from(operand.value as string)
        .reverse()
        .join(''),
    );
  if (operand instanceof IteratorValue) return new ArrayValue([...operand.value].reverse());
  if (isList(operand)) return new IteratorValue([...operand.value].reverse(), 'list_reverseiterator');
  if (isDict(operand)) return new IteratorValue([...operand.keys().value].reverse(), 'dict_reversekeyiterator');
  throw new Error(`argument to reversed() must be a sequence`);
}

function itemsFilter(operand: RuntimeValue): RuntimeValue {
  if (operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
  if (!isDict(operand)) throw new Error('Can only get item pairs from a mapping.');
  return new IteratorValue(pairsOf(operand.items().value), 'generator');
}

function dictsortFilter(dict: IntegerKeyedDict, [positional, named]: Arguments): RuntimeValue {
  const caseSensitive = Boolean((named.get('case_sensitive') ?? positional[0])?.value);
  const byValue = pythonStr(named.get('by') ?? positional[1] ?? new StringValue('key')) === 'value';
  const reverse = Boolean((named.get('reverse') ?? positional[2])?.value);
  const pairs = dict.items().value as RuntimeValue[];
  const keyOf = (pair: RuntimeValue) => orderingKey(pair.value[byValue ? 1 : 0], caseSensitive);
  const sorted = [...pairs].sort((a, b) => compareKeys(keyOf(a), keyOf(b)) * (reverse ? -1 : 1));
  return new ArrayValue(sorted);
}

/** select/reject (by test) and selectattr/rejectattr (by a test of an attribute); none selects nothing. */
function selectFilter(
  operand: RuntimeValue,
  keep: boolean,
  attribute: string | undefined,
  [positional, named]: Arguments,
  environment: Environment,
): RuntimeValue {
  if (operand.type === 'NullValue' || operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
  if (named.size > 0) throw new Error('keyword arguments to select filters are not supported');
  const [testName, ...testArguments] = positional;
  const test = testName === undefined ? undefined : testFunction(String(testName.value), environment);
  const passes = (item: RuntimeValue) => {
    const subject = attribute === undefined ? item : attributeOf(item, attribute);
    return test ? test(subject, ...testArguments) : subject.__bool__().value;
  };
  return new IteratorValue(
    pythonIteration(operand).filter((item) => passes(item) === keep),
    'generator',
  );
}

function testFunction(name: string, environment: Environment): TestFunction {
  const test = TESTS[name] ?? environment.tests.get(name);
  if (!test) throw new Error(`No test named '${name}'.`);
  return test;
}

/** map(attribute=..., default=...) or map('filter', *args). */
function mapFilter(operand: RuntimeValue, [positional, named]: Arguments, host: FilterHost): RuntimeValue {
  if (operand.type === 'NullValue' || operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
  const items = pythonIteration(operand);
  const attribute = named.get('attribute');
  if (attribute) {
    const fallback = named.get('default');
    return new IteratorValue(
      items.map((item) => {
        const value = attributeOf(item, String(attribute.value));
        return value.type === 'UndefinedValue' && fallback ? fallback : value;
      }),
      'generator',
    );
  }
  const [filterName, ...filterArguments] = positional;
  if (filterName === undefined) throw new Error('map requires a filter argument');
  const filter: SyntaxNode =
    filterArguments.length === 0
      ? { type: 'Identifier', value: String(filterName.value) }
      : { type: 'CallExpression', callee: { type: 'Identifier', value: String(filterName.value) }, args: filterArguments.map(evaluated) };
  return new IteratorValue(
    items.map((item) => host.runFilter(filter, item)),
    'generator',
  );
}
