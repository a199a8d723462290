// Python's type(), repr(), str(), ==, in, len(), iteration and string ordering of template values.
import { StringValue, isDict, isList, isNumber, isString, type ObjectRuntimeValue, type RuntimeValue } from './runtime.js';
import { IntegerKeyedDict, IteratorValue, PairValue, dictKey, isTuple } from './python-types.js';

export function pythonTypeName(value: RuntimeValue): string {
  if (value instanceof IteratorValue) return value.pythonType;
  const names: Record<string, string> = {
    StringValue: 'str',
    IntegerValue: 'int',
    FloatValue: 'float',
    BooleanValue: 'bool',
    NullValue: 'NoneType',
    ArrayValue: 'list',
    TupleValue: 'tuple',
    ObjectValue: 'dict',
    KeywordArgumentsValue: 'dict',
    NamespaceValue: 'Namespace',
    UndefinedValue: 'Undefined',
    FunctionValue: 'function',
  };
  return names[value.type] ?? value.type;
}

function isPrintable(character: string): boolean {
  return character === ' ' || !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u.test(character);
}

function escapedCodePoint(codePoint: number): string {
  if (codePoint < 0x100) return '\\x' + codePoint.toString(16).padStart(2, '0');
  if (codePoint < 0x10000) return '\\u' + codePoint.toString(16).padStart(4, '0');
  return '\\U' + codePoint.toString(16).padStart(8, '0');
}

function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const simpleEscapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', [quote]: '\\' + quote };
  let out = quote;
  for (const character of text) {
    out += simpleEscapes[character] ?? (isPrintable(character) ? character : escapedCodePoint(character.codePointAt(0)!));
  }
  return out + quote;
}

/** Python's repr of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Object.is(value, -0)) return '-0.0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const positional = value.toString();
  return positional.includes('.') ? positional : positional + '.0';
}

export function pythonRepr(value: RuntimeValue): string {
  if (value instanceof IteratorValue) return `<${value.pythonType} object>`;
  switch (value.type) {
    case 'StringValue':
      return pythonStringRepr(value.value);
    case 'IntegerValue':
      return String(value.value);
    case 'FloatValue':
      return pythonFloatRepr(value.value);
    case 'BooleanValue':
      return value.value ? 'True' : 'False';
    case 'NullValue':
      return 'None';
    case 'UndefinedValue':
      return 'Undefined';
    case 'ArrayValue':
      if (value instanceof PairValue) return `(${(value.value as RuntimeValue[]).map(pythonRepr).join(', ')})`;
      return `[${(value.value as RuntimeValue[]).map(pythonRepr).join(', ')}]`;
    case 'TupleValue': {
      const items = (value.value as RuntimeValue[]).map(pythonRepr);
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
    }
    case 'ObjectValue':
    case 'KeywordArgumentsValue':
      return pythonDictRepr(value as ObjectRuntimeValue);
    case 'NamespaceValue':
      return `<Namespace ${pythonDictRepr(value as ObjectRuntimeValue)}>`;
    default:
      return `<${pythonTypeName(value)} object>`;
  }
}

function pythonDictRepr(dict: ObjectRuntimeValue): string {
  const keyRepr = (key: string) => (dict instanceof IntegerKeyedDict ? pythonRepr(dict.originalKeys.get(key)!) : pythonStringRepr(key));
  return `{${Array.from(dict.value, ([key, item]) => `${keyRepr(key)}: ${pythonRepr(item)}`).join(', ')}}`;
}

/** Python's str() of a value, which is what jinja2 prints for `{{ value }}`. */
export function pythonStr(value: RuntimeValue): string {
  if (isString(value)) return value.value;
  if (value.type === 'UndefinedValue') return '';
  return pythonRepr(value);
}

export function pythonEquals(a: RuntimeValue, b: RuntimeValue): boolean {
  if (a instanceof IteratorValue || b instanceof IteratorValue) return a === b;
  if (isNumber(a) && isNumber(b)) return Number(a.value) === Number(b.value);
  if (isString(a) && isString(b)) return a.value === b.value;
  if (isList(a) && isList(b)) {
    const [left, right] = [a.value as RuntimeValue[], b.value as RuntimeValue[]];
    return isTuple(a) === isTuple(b) && left.length === right.length && left.every((item, i) => pythonEquals(item, right[i]));
  }
  if (isDict(a) && isDict(b)) {
    if (a.value.size !== b.value.size) return false;
    return Array.from(a.value).every(([key, item]) => b.value.has(key) && pythonEquals(item, b.value.get(key)!));
  }
  if (a.type === b.type && (a.type === 'NullValue' || a.type === 'UndefinedValue')) return true;
  return a === b;
}

/** The items `for x in value` visits: characters of a string, keys of a dict, nothing for undefined. */
export function pythonIteration(value: RuntimeValue): RuntimeValue[] {
  if (isList(value)) return value.value;
  if (isString(value)) return Array.from(value.value as string, (character) => new StringValue(character));
  if (isDict(value)) return value.keys().value;
  if (value.type === 'UndefinedValue') return [];
  throw new Error(`'${pythonTypeName(value)}' object is not iterable`);
}

export function pythonContains(container: RuntimeValue, item: RuntimeValue): boolean {
  if (isString(container)) {
    if (!isString(item)) throw new Error(`'in <string>' requires string as left operand, not ${pythonTypeName(item)}`);
    return (container.value as string).includes(item.value);
  }
  if (isList(container)) return (container.value as RuntimeValue[]).some((element) => pythonEquals(element, item));
  if (isDict(container)) return dictKey(container, item) !== undefined && container.value.has(dictKey(container, item)!);
  if (container.type === 'UndefinedValue') return false;
  throw new Error(`argument of type '${pythonTypeName(container)}' is not iterable`);
}

/** Python's len(); jinja2's undefined has length 0. */
export function pythonLength(value: RuntimeValue): number {
  if (value instanceof IteratorValue) throw new Error(`object of type '${value.pythonType}' has no len()`);
  if (isString(value)) return Array.from(value.value as string).length;
  if (isList(value)) return value.value.length;
  if (isDict(value) || value.type === 'NamespaceValue') return value.value.size;
  if (value.type === 'UndefinedValue') return 0;
  throw new Error(`object of type '${pythonTypeName(value)}' has no len()`);
}

/** Python's ordering of strings: by code point, where JavaScript's `<` compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a, (c) => c.codePointAt(0)!);
  const right = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return left[i] - right[i];
  }
  return left.length - right.length;
}
