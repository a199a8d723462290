// transformers' `tojson` filter: Python's json.dumps of template values, byte for byte.
import { isString, type ObjectRuntimeValue, type RuntimeValue } from './runtime.js';
import { IteratorValue } from './python-types.js';
import { compareCodePoints, pythonFloatRepr, pythonTypeName } from './python-values.js';

interface JsonOptions {
  ensureAscii: boolean;
  /** Python's indent: none for one line, else the string each level adds. */
  indent: string | null;
  itemSeparator: string;
  keySeparator: string;
  sortKeys: boolean;
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function jsonString(text: string, ensureAscii: boolean): string {
  // eslint-disable-next-line no-control-regex -- JSON escapes exactly the control characters
  const unsafe = ensureAscii ? /["\\\x00-\x1f\x7f-\uffff]/g : /["\\\x00-\x1f]/g;
  const escaped = text.replace(
    unsafe,
    (character) => JSON_ESCAPES[character] ?? '\\u' + character.charCodeAt(0).toString(16).padStart(4, '0'),
  );
  return `"${escaped}"`;
}

function jsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return pythonFloatRepr(value);
}

/** Python's `json.dumps(value, ensure_ascii=..., indent=..., separators=..., sort_keys=...)`. */
function pythonJsonDumps(value: RuntimeValue, options: JsonOptions, depth = 0): string {
  if (value instanceof IteratorValue) throw new Error(`Object of type ${value.pythonType} is not JSON serializable`);
  switch (value.type) {
    case 'NullValue':
      return 'null';
    case 'BooleanValue':
      return value.value ? 'true' : 'false';
    case 'IntegerValue':
      return String(value.value);
    case 'FloatValue':
      return jsonFloat(value.value);
    case 'StringValue':
      return jsonString(value.value, options.ensureAscii);
    case 'ArrayValue':
    case 'TupleValue':
      return jsonContainer(
        '[',
        ']',
        (value.value as RuntimeValue[]).map((item) => pythonJsonDumps(item, options, depth + 1)),
        options,
        depth,
      );
    case 'ObjectValue':
    case 'KeywordArgumentsValue': {
      let entries = Array.from((value as ObjectRuntimeValue).value);
      if (options.sortKeys) entries = entries.sort(([a], [b]) => compareCodePoints(a, b));
      const members = entries.map(
        ([key, item]) => jsonString(key, options.ensureAscii) + options.keySeparator + pythonJsonDumps(item, options, depth + 1),
      );
      return jsonContainer('{', '}', members, options, depth);
    }
    default:
      throw new Error(`Object of type ${pythonTypeName(value)} is not JSON serializable`);
  }
}

function jsonContainer(open: string, close: string, members: string[], options: JsonOptions, depth: number): string {
  if (members.length === 0) return open + close;
  if (options.indent === null) return open + members.join(options.itemSeparator) + close;
  const inner = '\n' + options.indent.repeat(depth + 1);
  const outer = '\n' + options.indent.repeat(depth);
  return open + inner + members.join(options.itemSeparator + inner) + outer + close;
}

/**
 * transformers' `tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`,
 * arguments given by position or by name.
 */
export function transformersToJson(value: RuntimeValue, positional: RuntimeValue[], named: Map<string, RuntimeValue>): string {
  const argument = (index: number, name: string) => named.get(name) ?? positional[index];
  const indent = argument(1, 'indent');
  const separators = argument(2, 'separators');
  const indentText =
    indent === undefined || indent.type === 'NullValue' ? null : isString(indent) ? indent.value : ' '.repeat(indent.value);
  const [itemSeparator, keySeparator] =
    separators !== undefined && separators.type !== 'NullValue'
      ? (separators.value as RuntimeValue[]).map((part) => String(part.value))
      : [indentText === null ? ', ' : ',', ': '];
  return pythonJsonDumps(value, {
    ensureAscii: Boolean(argument(0, 'ensure_ascii')?.value),
    indent: indentText,
    itemSeparator,
    keySeparator,
    sortKeys: Boolean(argument(3, 'sort_keys')?.value),
  });
}
