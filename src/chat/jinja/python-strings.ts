// Python's string methods (strip with characters, capitalize, join, format) and jinja2's indent filter.
import { ArrayValue, StringValue, isString, type RuntimeValue } from './runtime.js';
import { pythonIteration, pythonRepr, pythonStr, pythonTypeName } from './python-values.js';

/** The characters Python's str.strip() and str.split() treat as whitespace. */
const PYTHON_WHITESPACE =
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function pythonStrip(text: string, characters: RuntimeValue | undefined, ends: 'both' | 'start' | 'end'): string {
  const set = new Set(characters === undefined || characters.type === 'NullValue' ? PYTHON_WHITESPACE : (characters.value as string));
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  if (ends !== 'end') while (start < end && set.has(chars[start])) start++;
  if (ends !== 'start') while (end > start && set.has(chars[end - 1])) end--;
  return chars.slice(start, end).join('');
}

export function pythonCapitalize(text: string): string {
  const [first = '', ...rest] = Array.from(text);
  return first.toUpperCase() + rest.join('').toLowerCase();
}

/** `str.format` with automatic, numbered and named fields and the !s/!r conversions (no format specs). */
function pythonFormat(template: string, positional: RuntimeValue[], named: Map<string, RuntimeValue>): string {
  let nextIndex = 0;
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}|[{}]/g, (match, field: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (field === undefined) throw new Error(`Single '${match}' encountered in format string`);
    const [, name = '', conversion, spec] = /^([^!:]*)(?:!([rsa]))?(?::(.*))?$/s.exec(field) ?? [];
    if (spec) throw new Error(`format spec ':${spec}' is not supported in str.format`);
    const value = name === '' ? positional[nextIndex++] : /^\d+$/.test(name) ? positional[Number(name)] : named.get(name);
    if (value === undefined) throw new Error(`Replacement index or key '${name}' is missing in str.format`);
    return conversion === 'r' ? pythonRepr(value) : pythonStr(value);
  });
}

type StringMethod = (text: string, positional: RuntimeValue[], named: Map<string, RuntimeValue>) => RuntimeValue;

/** String methods where the library lacks Python's form: strip with characters, capitalize, format. */
export const STRING_METHODS: Record<string, StringMethod> = {
  strip: (text, [characters]) => new StringValue(pythonStrip(text, characters, 'both')),
  lstrip: (text, [characters]) => new StringValue(pythonStrip(text, characters, 'start')),
  rstrip: (text, [characters]) => new StringValue(pythonStrip(text, characters, 'end')),
  capitalize: (text) => new StringValue(pythonCapitalize(text)),
  join: (text, [items]) => {
    const parts = pythonIteration(items ?? new ArrayValue([]));
    const notString = parts.find((part) => !isString(part));
    if (notString) throw new Error(`sequence item: expected str instance, ${pythonTypeName(notString)} found`);
    return new StringValue(parts.map((part) => part.value).join(text));
  },
  format: (text, positional, named) => new StringValue(pythonFormat(text, positional, named)),
};

/** Python's str.splitlines() boundaries, which jinja2's indent filter splits on. */
// eslint-disable-next-line no-control-regex -- the separators Python splits lines on
const LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** jinja2's `indent(width=4, first=False, blank=False)`. */
export function pythonIndent(text: string, positional: RuntimeValue[], named: Map<string, RuntimeValue>): string {
  const width = named.get('width') ?? positional[0];
  const first = Boolean((named.get('first') ?? positional[1])?.value);
  const blank = Boolean((named.get('blank') ?? positional[2])?.value);
  const indentation = width === undefined ? '    ' : isString(width) ? width.value : ' '.repeat(width.value);
  const lines = (text + '\n').split(LINE_BOUNDARY);
  lines.pop(); // the quirk's extra newline ends the last line, as in jinja2
  const indented = lines.map((line, i) => (i === 0 || (!blank && line === '') ? line : indentation + line));
  return (first ? indentation : '') + indented.join('\n');
}
