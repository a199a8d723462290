// Chat templates rendered as Hugging Face transformers renders them with Python's jinja2 (sandboxed,
// trim_blocks + lstrip_blocks, loop controls, `{% generation %}` blocks, its own `tojson`,
// `raise_exception`, `strftime_now`), on top of @huggingface/jinja. Where that library's semantics
// differ from jinja2's on things chat templates use, the interpreter subclass below gives jinja2's
// behaviour through the library's public `Interpreter.evaluate`. docs/chat-templates.md has the details.
import { Environment as LibraryEnvironment, Interpreter as LibraryInterpreter, Template, tokenize } from '@huggingface/jinja';

export interface ChatToolCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: unknown };
}

export interface ChatMessage {
  role: string;
  content?: string | null;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  name?: string;
  [key: string]: unknown;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: unknown };
}

export interface RenderInput {
  messages: ChatMessage[];
  /** Absent: the template sees `tools` as none, as transformers passes it. */
  tools?: ToolDefinition[];
  addGenerationPrompt: boolean;
  /** Extra template variables (documents, enable_thinking, ...); they win over the standard ones. */
  extra?: Record<string, unknown>;
  /** Clock for `strftime_now`; the current time when absent. */
  now?: Date;
}

/** A template that cannot be compiled or that failed while rendering (including `raise_exception`). */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Thrown by the template's `raise_exception(msg)`; carries the template's own message. */
class RaisedByTemplate extends Error {}

// ---------------------------------------------------------------------------------------------
// The library's runtime values, syntax nodes and classes, as far as this module uses them. Its type
// declarations import their siblings without file extensions, which NodeNext cannot resolve, so the
// shapes are declared here.

interface RuntimeValue {
  type: string;
  value: any; // what each value type holds: string, number, RuntimeValue[], Map, ...
  __bool__(): RuntimeValue;
}

interface ObjectRuntimeValue extends RuntimeValue {
  value: Map<string, RuntimeValue>;
  keys(): RuntimeValue;
  items(): RuntimeValue;
}

interface SyntaxNode {
  type: string;
  [field: string]: any; // the node type's own fields
}

interface LexerToken {
  value: string;
  type: string;
}

type TestFunction = (...operands: RuntimeValue[]) => boolean;

interface Environment {
  set(name: string, value: unknown): RuntimeValue;
  setVariable(name: string, value: RuntimeValue): RuntimeValue;
  lookupVariable(name: string): RuntimeValue;
  variables: Map<string, RuntimeValue>;
  tests: ReadonlyMap<string, TestFunction>;
}

interface Interpreter {
  run(program: SyntaxNode): RuntimeValue;
  evaluate(node: SyntaxNode | undefined, environment: Environment): RuntimeValue;
}

const Environment = LibraryEnvironment as new (parent?: Environment) => Environment;
const Interpreter = LibraryInterpreter as new (environment: Environment) => Interpreter;

/** The library exports no value classes; converting a sample JS value yields an instance of each. */
function runtimeClassOf<T extends RuntimeValue = RuntimeValue>(sample: unknown): new (value?: unknown) => T {
  return (new Environment().set('sample', sample) as RuntimeValue).constructor as new (value?: unknown) => T;
}

const StringValue = runtimeClassOf('');
const IntegerValue = runtimeClassOf(0);
const FloatValue = runtimeClassOf(0.5);
const BooleanValue = runtimeClassOf(false);
const ArrayValue = runtimeClassOf([]);
const ObjectValue = runtimeClassOf<ObjectRuntimeValue>({});
const UndefinedValue = runtimeClassOf(undefined);
type Callable = (args: RuntimeValue[], scope: Environment) => RuntimeValue;
const FunctionValue = runtimeClassOf(() => undefined) as new (call: Callable) => RuntimeValue;

/**
 * What jinja2's select, map, unique, reverse and items filters return: an iterator, which Python
 * treats as true even when empty and which has no len() and no JSON form.
 */
class IteratorValue extends ArrayValue {
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
class PairValue extends ArrayValue {}

function pairsOf(pairs: RuntimeValue[]): RuntimeValue[] {
  return pairs.map((pair) => new PairValue(pair.value));
}

/** A dict literal with integer keys (`{0: 0, 512: 128}`); the library's dicts only have string keys. */
class IntegerKeyedDict extends ObjectValue {
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

/** Strings made safe with `|safe`: jinja2 HTML-escapes a plain string added to one with `+`. */
const markupStrings = new WeakSet<RuntimeValue>();

function markup(text: string): RuntimeValue {
  const value = new StringValue(text);
  markupStrings.add(value);
  return value;
}

function isString(value: RuntimeValue): boolean {
  return value.type === 'StringValue';
}

function isDict(value: RuntimeValue): value is ObjectRuntimeValue {
  return value.type === 'ObjectValue' || value.type === 'KeywordArgumentsValue';
}

function isList(value: RuntimeValue): boolean {
  return value.type === 'ArrayValue' || value.type === 'TupleValue';
}

function isTuple(value: RuntimeValue): boolean {
  return value.type === 'TupleValue' || value instanceof PairValue;
}

function isNumber(value: RuntimeValue): boolean {
  return value.type === 'IntegerValue' || value.type === 'FloatValue' || value.type === 'BooleanValue';
}

// ---------------------------------------------------------------------------------------------
// Source preparation

const STATEMENT_TYPES = new Set(['Program', 'If', 'For', 'Break', 'Continue', 'Set', 'Macro', 'Comment', 'CallStatement', 'FilterStatement']);
const GENERATION_MACRO = '__tgi_node_generation_block';

/**
 * transformers accepts `{% generation %}...{% endgeneration %}` (it only marks the assistant's span).
 * jinja2 runs the body as a call block, so the body gets its own scope; a call block of a macro that
 * returns `caller()` is the same construct here. The tags keep their whitespace-control dashes and stay
 * block tags, so trim_blocks and lstrip_blocks treat them exactly as before.
 */
function rewriteGenerationBlocks(source: string): string {
  const opening = /\{%(-?)\s*generation\s*(-?)%\}/g;
  if (!opening.test(source)) return source;
  const rewritten = source
    .replace(opening, (_tag, before: string, after: string) => `{%${before} call ${GENERATION_MACRO}() ${after}%}`)
    .replace(/\{%(-?)\s*endgeneration\s*(-?)%\}/g, (_tag, before: string, after: string) => `{%${before} endcall ${after}%}`);
  // Defined ahead of everything and printing nothing; trim_blocks eats the newline after it, which
  // keeps the template's first line at the start of a line for lstrip_blocks.
  return `{% macro ${GENERATION_MACRO}() %}{{ caller() }}{% endmacro %}\n` + rewritten;
}

function referencesVariable(source: string, name: string): boolean {
  let tokens: LexerToken[];
  try {
    tokens = tokenize(source, { lstrip_blocks: true, trim_blocks: true }) as LexerToken[];
  } catch {
    return false;
  }
  return tokens.some(
    (token, index) =>
      token.type === 'Identifier' &&
      token.value === name &&
      tokens[index - 1]?.type !== 'Dot' &&
      // `f(tools=...)` names a keyword argument, not the variable.
      tokens[index + 1]?.type !== 'Equals',
  );
}

/** Expressions whose value a block prints (`{{ ... }}` and template text), found once per template. */
function collectPrintedExpressions(statements: SyntaxNode[], printed: WeakSet<SyntaxNode>): void {
  for (const node of statements) {
    if (!STATEMENT_TYPES.has(node.type)) {
      printed.add(node);
      continue;
    }
    for (const field of ['body', 'alternate', 'defaultBlock']) {
      if (Array.isArray(node[field])) collectPrintedExpressions(node[field], printed);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Python's str(), repr(), ==, in, iteration and json.dumps() of template values

function pythonTypeName(value: RuntimeValue): string {
  if (value instanceof IteratorValue) return value.pythonType;
  const names: Record<string, string> = {
    StringValue: 'str', IntegerValue: 'int', FloatValue: 'float', BooleanValue: 'bool', NullValue: 'NoneType',
    ArrayValue: 'list', TupleValue: 'tuple', ObjectValue: 'dict', KeywordArgumentsValue: 'dict',
    NamespaceValue: 'Namespace', UndefinedValue: 'Undefined', FunctionValue: 'function',
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
function pythonFloatRepr(value: number): string {
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

function pythonRepr(value: RuntimeValue): string {
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
function pythonStr(value: RuntimeValue): string {
  if (isString(value)) return value.value;
  if (value.type === 'UndefinedValue') return '';
  return pythonRepr(value);
}

function pythonEquals(a: RuntimeValue, b: RuntimeValue): boolean {
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
function pythonIteration(value: RuntimeValue): RuntimeValue[] {
  if (isList(value)) return value.value;
  if (isString(value)) return Array.from(value.value as string, (character) => new StringValue(character));
  if (isDict(value)) return value.keys().value;
  if (value.type === 'UndefinedValue') return [];
  throw new Error(`'${pythonTypeName(value)}' object is not iterable`);
}

function dictKey(dict: ObjectRuntimeValue, key: RuntimeValue): string | undefined {
  if (isString(key)) return dict instanceof IntegerKeyedDict && dict.originalKeys.get(key.value)?.type !== 'StringValue' ? undefined : key.value;
  if (dict instanceof IntegerKeyedDict && key.type === 'IntegerValue' && dict.originalKeys.get(String(key.value))?.type === 'IntegerValue') {
    return String(key.value);
  }
  return undefined;
}

function pythonContains(container: RuntimeValue, item: RuntimeValue): boolean {
  if (isString(container)) {
    if (!isString(item)) throw new Error(`'in <string>' requires string as left operand, not ${pythonTypeName(item)}`);
    return (container.value as string).includes(item.value);
  }
  if (isList(container)) return (container.value as RuntimeValue[]).some((element) => pythonEquals(element, item));
  if (isDict(container)) return dictKey(container, item) !== undefined && container.value.has(dictKey(container, item)!);
  if (container.type === 'UndefinedValue') return false;
  throw new Error(`argument of type '${pythonTypeName(container)}' is not iterable`);
}

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
  const unsafe = ensureAscii ? /["\\\x00-\x1f\x7f-\uffff]/g : /["\\\x00-\x1f]/g;
  const escaped = text.replace(unsafe, (character) => JSON_ESCAPES[character] ?? '\\u' + character.charCodeAt(0).toString(16).padStart(4, '0'));
  return `"${escaped}"`;
}

function jsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return pythonFloatRepr(value);
}

function compareCodePoints(a: string, b: string): number {
  const left = Array.from(a, (c) => c.codePointAt(0)!);
  const right = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return left[i] - right[i];
  }
  return left.length - right.length;
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
      return jsonContainer('[', ']', (value.value as RuntimeValue[]).map((item) => pythonJsonDumps(item, options, depth + 1)), options, depth);
    case 'ObjectValue':
    case 'KeywordArgumentsValue': {
      let entries = Array.from((value as ObjectRuntimeValue).value);
      if (options.sortKeys) entries = entries.sort(([a], [b]) => compareCodePoints(a, b));
      const members = entries.map(([key, item]) => jsonString(key, options.ensureAscii) + options.keySeparator + pythonJsonDumps(item, options, depth + 1));
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
function transformersToJson(value: RuntimeValue, positional: RuntimeValue[], named: Map<string, RuntimeValue>): string {
  const argument = (index: number, name: string) => named.get(name) ?? positional[index];
  const indent = argument(1, 'indent');
  const separators = argument(2, 'separators');
  const indentText = indent === undefined || indent.type === 'NullValue' ? null : isString(indent) ? indent.value : ' '.repeat(indent.value);
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

// ---------------------------------------------------------------------------------------------
// Python's string methods and datetime.strftime

/** The characters Python's str.strip() and str.split() treat as whitespace. */
const PYTHON_WHITESPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

function pythonStrip(text: string, characters: RuntimeValue | undefined, ends: 'both' | 'start' | 'end'): string {
  const set = new Set(characters === undefined || characters.type === 'NullValue' ? PYTHON_WHITESPACE : (characters.value as string));
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  if (ends !== 'end') while (start < end && set.has(chars[start])) start++;
  if (ends !== 'start') while (end > start && set.has(chars[end - 1])) end--;
  return chars.slice(start, end).join('');
}

function pythonCapitalize(text: string): string {
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
const STRING_METHODS: Record<string, StringMethod> = {
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

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function dayOfYear(date: Date): number {
  const utcDay = (d: Date) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return (utcDay(date) - utcDay(new Date(date.getFullYear(), 0, 1))) / 86_400_000 + 1;
}

/** Week number of the year where weeks start on `firstWeekday` (0 Sunday, 1 Monday), as %U and %W count. */
function weekOfYear(date: Date, firstWeekday: number): number {
  const daysSinceWeekStart = (date.getDay() - firstWeekday + 7) % 7;
  return Math.floor((dayOfYear(date) - 1 - daysSinceWeekStart + 7) / 7);
}

/** ISO 8601 week-numbering year and week, as %G and %V give them. */
function isoWeek(date: Date): { year: number; week: number } {
  const thursday = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 3 - ((date.getDay() + 6) % 7));
  return { year: thursday.getFullYear(), week: Math.floor((dayOfYear(thursday) - 1) / 7) + 1 };
}

/** One strftime field; `padded` is false for glibc's `%-d` form. Undefined for an unknown code. */
function strftimeField(date: Date, code: string, padded: boolean): string | undefined {
  const number = (value: number, width: number, padding = '0') => (padded ? String(value).padStart(width, padding) : String(value));
  switch (code) {
    case 'a': return WEEKDAYS[date.getDay()].slice(0, 3);
    case 'A': return WEEKDAYS[date.getDay()];
    case 'w': return String(date.getDay());
    case 'u': return String(date.getDay() || 7);
    case 'd': return number(date.getDate(), 2);
    case 'e': return number(date.getDate(), 2, ' ');
    case 'b': case 'h': return MONTHS[date.getMonth()].slice(0, 3);
    case 'B': return MONTHS[date.getMonth()];
    case 'm': return number(date.getMonth() + 1, 2);
    case 'y': return number(date.getFullYear() % 100, 2);
    case 'Y': return String(date.getFullYear());
    case 'H': return number(date.getHours(), 2);
    case 'I': return number(date.getHours() % 12 || 12, 2);
    case 'p': return date.getHours() < 12 ? 'AM' : 'PM';
    case 'M': return number(date.getMinutes(), 2);
    case 'S': return number(date.getSeconds(), 2);
    case 'f': return String(date.getMilliseconds() * 1000).padStart(6, '0');
    case 'j': return number(dayOfYear(date), 3);
    case 'U': return number(weekOfYear(date, 0), 2);
    case 'W': return number(weekOfYear(date, 1), 2);
    case 'G': return String(isoWeek(date).year);
    case 'V': return number(isoWeek(date).week, 2);
    // strftime_now formats a naive datetime, which has no zone.
    case 'z': case 'Z': return '';
    case 'c': return strftime(date, '%a %b %e %H:%M:%S %Y');
    case 'x': case 'D': return strftime(date, '%m/%d/%y');
    case 'X': case 'T': return strftime(date, '%H:%M:%S');
    case 'F': return strftime(date, '%Y-%m-%d');
    case 'R': return strftime(date, '%H:%M');
    case 'n': return '\n';
    case 't': return '\t';
    case '%': return '%';
    default: return undefined;
  }
}

/** Python's `datetime.strftime` in the C locale (English names), with glibc's `%-d` (unpadded) form. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%(-?)(.)/gs, (whole, unpadded: string, code: string) => strftimeField(date, code, unpadded === '') ?? whole);
}

// ---------------------------------------------------------------------------------------------
// jinja2's filters where the library lacks them or differs

/** jinja2's sandbox refuses ranges longer than this. */
const MAX_RANGE = 100_000;

function pythonRange(...args: number[]): number[] {
  const [start, stop, step] = args.length === 1 ? [0, args[0], 1] : [args[0], args[1], args[2] ?? 1];
  if (step === 0) throw new Error('range() arg 3 must not be zero');
  if (Math.ceil((stop - start) / step) > MAX_RANGE) throw new Error(`Range too big. The sandbox blocks ranges larger than MAX_RANGE (${MAX_RANGE}).`);
  const values: number[] = [];
  for (let value = start; step > 0 ? value < stop : value > stop; value += step) values.push(value);
  return values;
}

/** jinja2's attribute lookup for filters: dotted path, integer parts index lists. */
function attributeOf(item: RuntimeValue, path: string): RuntimeValue {
  let value = item;
  for (const part of path.split('.')) {
    const next = value.value instanceof Map ? value.value.get(part) : Array.isArray(value.value) && /^\d+$/.test(part) ? value.value[Number(part)] : undefined;
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
  if (typeof a !== typeof b) throw new Error(`'<' not supported between instances of '${typeof a === 'number' ? 'int' : 'str'}' and '${typeof b === 'number' ? 'int' : 'str'}'`);
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

/** Python's str.splitlines() boundaries, which jinja2's indent filter splits on. */
const LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** jinja2's `indent(width=4, first=False, blank=False)`. */
function pythonIndent(text: string, positional: RuntimeValue[], named: Map<string, RuntimeValue>): string {
  const width = named.get('width') ?? positional[0];
  const first = Boolean((named.get('first') ?? positional[1])?.value);
  const blank = Boolean((named.get('blank') ?? positional[2])?.value);
  const indentation = width === undefined ? '    ' : isString(width) ? width.value : ' '.repeat(width.value);
  const lines = (text + '\n').split(LINE_BOUNDARY);
  lines.pop(); // the quirk's extra newline ends the last line, as in jinja2
  const indented = lines.map((line, i) => (i === 0 || (!blank && line === '') ? line : indentation + line));
  return (first ? indentation : '') + indented.join('\n');
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

/** Python's len(); jinja2's undefined has length 0. */
function pythonLength(value: RuntimeValue): number {
  if (value instanceof IteratorValue) throw new Error(`object of type '${value.pythonType}' has no len()`);
  if (isString(value)) return Array.from(value.value as string).length;
  if (isList(value)) return value.value.length;
  if (isDict(value) || value.type === 'NamespaceValue') return value.value.size;
  if (value.type === 'UndefinedValue') return 0;
  throw new Error(`object of type '${pythonTypeName(value)}' has no len()`);
}

function htmlEscape(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
  return text.replace(/[&<>"']/g, (character) => entities[character]);
}

/** Filters left to the library that read their input as text (jinja2 converts it with str() first). */
const TEXT_FILTERS = new Set(['upper', 'lower', 'title', 'replace']);

/** Tests where jinja2 disagrees with the library. */
const TESTS: Record<string, (value: RuntimeValue) => boolean> = {
  iterable: (value) => isList(value) || isString(value) || isDict(value) || value.type === 'UndefinedValue',
  sequence: (value) => (isList(value) && !(value instanceof IteratorValue)) || isString(value) || isDict(value),
  number: isNumber,
  float: (value) => value.type === 'FloatValue',
};

// ---------------------------------------------------------------------------------------------
// The interpreter

/** `{% break %}` or `{% continue %}` on its way to its loop, with the output the iteration made before it. */
class LoopControl extends Error {
  partialOutput = '';

  constructor(readonly kind: 'break' | 'continue') {
    super(`{% ${kind} %} outside of a for loop`);
  }
}

/** A syntax node standing for a value already computed, so the library never evaluates an operand twice. */
const EVALUATED = '__tgi_node_evaluated';

function evaluated(value: RuntimeValue): SyntaxNode {
  return { type: EVALUATED, value };
}

type Arguments = [RuntimeValue[], Map<string, RuntimeValue>];

class Jinja2CompatibleInterpreter extends Interpreter {
  constructor(
    environment: Environment,
    private readonly printedExpressions: WeakSet<SyntaxNode>,
  ) {
    super(environment);
  }

  override evaluate(node: SyntaxNode | undefined, environment: Environment): RuntimeValue {
    if (node === undefined) return super.evaluate(node, environment);
    const value = this.evaluateNode(node, environment);
    return this.printedExpressions.has(node) ? this.printed(value) : value;
  }

  private evaluateNode(node: SyntaxNode, environment: Environment): RuntimeValue {
    switch (node.type) {
      case EVALUATED:
        return node.value;
      case 'FilterExpression':
        return this.filter(node, environment);
      case 'TestExpression':
        return this.test(node, environment);
      case 'BinaryExpression':
        return this.binary(node, environment);
      case 'MemberExpression':
        return this.member(node, environment);
      case 'CallExpression':
        return this.call(node, environment);
      case 'ObjectLiteral':
        return this.dictLiteral(node, environment);
      case 'For':
        return this.forLoop(node, environment);
      case 'Macro':
        return this.macro(node, environment);
      case 'If':
        return new StringValue(this.block(this.evaluate(node.test, environment).__bool__().value ? node.body : node.alternate, environment));
      case 'Break':
        throw new LoopControl('break');
      case 'Continue':
        throw new LoopControl('continue');
      default:
        return super.evaluate(node, environment);
    }
  }

  /** jinja2 prints str(value): None, True, dicts and lists in Python's spelling. */
  private printed(value: RuntimeValue): RuntimeValue {
    if (isString(value) || value.type === 'UndefinedValue') return value;
    return new StringValue(pythonStr(value));
  }

  private arguments(nodes: SyntaxNode[], environment: Environment): Arguments {
    const positional: RuntimeValue[] = [];
    const named = new Map<string, RuntimeValue>();
    for (const argument of nodes) {
      if (argument.type === 'KeywordArgumentExpression') named.set(argument.key.value, this.evaluate(argument.value, environment));
      else if (argument.type === 'SpreadExpression' || argument.type === 'KeywordSpreadExpression') throw new Error('argument unpacking is not supported here');
      else positional.push(this.evaluate(argument, environment));
    }
    return [positional, named];
  }

  private filter(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operand = this.evaluate(node.operand, environment);
    const call: SyntaxNode | undefined = node.filter.type === 'CallExpression' ? node.filter : undefined;
    const name: string = call ? call.callee.value : node.filter.value;
    const handled = this.builtinFilter(name, operand, () => this.arguments(call?.args ?? [], environment), environment);
    if (handled) return handled;
    const input = TEXT_FILTERS.has(name) && !isString(operand) ? new StringValue(pythonStr(operand)) : operand;
    const result = super.evaluate({ type: 'FilterExpression', operand: evaluated(input), filter: node.filter }, environment);
    return name === 'dictsort' ? new ArrayValue(pairsOf(result.value)) : result;
  }

  /** The filters implemented here; undefined for those left to the library. */
  private builtinFilter(name: string, operand: RuntimeValue, argumentsOf: () => Arguments, environment: Environment): RuntimeValue | undefined {
    switch (name) {
      case 'tojson':
        return new StringValue(transformersToJson(operand, ...argumentsOf()));
      case 'string':
        return isString(operand) ? operand : new StringValue(pythonStr(operand));
      case 'safe':
        return markupStrings.has(operand) ? operand : markup(pythonStr(operand));
      case 'trim':
        return this.trimFilter(operand, argumentsOf());
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
        return this.joinFilter(operand, argumentsOf());
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
        return this.reverseFilter(operand);
      case 'items':
        return this.itemsFilter(operand);
      case 'dictsort':
        if (operand instanceof IntegerKeyedDict) return this.dictsortFilter(operand, argumentsOf());
        return undefined;
      case 'select':
      case 'reject':
        return this.selectFilter(operand, name === 'select', undefined, argumentsOf(), environment);
      case 'selectattr':
      case 'rejectattr': {
        const [[attribute, ...rest], named] = argumentsOf();
        return this.selectFilter(operand, name === 'selectattr', String(attribute?.value), [rest, named], environment);
      }
      case 'map':
        return this.mapFilter(operand, argumentsOf(), environment);
      default:
        return undefined;
    }
  }

  private trimFilter(operand: RuntimeValue, [positional, named]: Arguments): RuntimeValue {
    const trimmed = pythonStrip(pythonStr(operand), named.get('chars') ?? positional[0], 'both');
    return markupStrings.has(operand) ? markup(trimmed) : new StringValue(trimmed);
  }

  private joinFilter(operand: RuntimeValue, [positional, named]: Arguments): RuntimeValue {
    const separator = named.get('d') ?? positional[0];
    const attribute = named.get('attribute') ?? positional[1];
    const items = pythonIteration(operand).map((item) => (attribute && attribute.type !== 'NullValue' ? attributeOf(item, String(attribute.value)) : item));
    return new StringValue(items.map(pythonStr).join(separator ? pythonStr(separator) : ''));
  }

  private reverseFilter(operand: RuntimeValue): RuntimeValue {
    if (isString(operand)) return new StringValue(Array.from(operand.value as string).reverse().join(''));
    if (operand instanceof IteratorValue) return new ArrayValue([...operand.value].reverse());
    if (isList(operand)) return new IteratorValue([...operand.value].reverse(), 'list_reverseiterator');
    if (isDict(operand)) return new IteratorValue([...operand.keys().value].reverse(), 'dict_reversekeyiterator');
    throw new Error(`argument to reversed() must be a sequence`);
  }

  private itemsFilter(operand: RuntimeValue): RuntimeValue {
    if (operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
    if (!isDict(operand)) throw new Error('Can only get item pairs from a mapping.');
    return new IteratorValue(pairsOf(operand.items().value), 'generator');
  }

  private dictsortFilter(dict: IntegerKeyedDict, [positional, named]: Arguments): RuntimeValue {
    const caseSensitive = Boolean((named.get('case_sensitive') ?? positional[0])?.value);
    const byValue = pythonStr(named.get('by') ?? positional[1] ?? new StringValue('key')) === 'value';
    const reverse = Boolean((named.get('reverse') ?? positional[2])?.value);
    const pairs = dict.items().value as RuntimeValue[];
    const keyOf = (pair: RuntimeValue) => orderingKey(pair.value[byValue ? 1 : 0], caseSensitive);
    const sorted = [...pairs].sort((a, b) => compareKeys(keyOf(a), keyOf(b)) * (reverse ? -1 : 1));
    return new ArrayValue(sorted);
  }

  /** select/reject (by test) and selectattr/rejectattr (by a test of an attribute); none selects nothing. */
  private selectFilter(operand: RuntimeValue, keep: boolean, attribute: string | undefined, [positional, named]: Arguments, environment: Environment): RuntimeValue {
    if (operand.type === 'NullValue' || operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
    if (named.size > 0) throw new Error('keyword arguments to select filters are not supported');
    const [testName, ...testArguments] = positional;
    const test = testName === undefined ? undefined : this.testFunction(String(testName.value), environment);
    const passes = (item: RuntimeValue) => {
      const subject = attribute === undefined ? item : attributeOf(item, attribute);
      return test ? test(subject, ...testArguments) : subject.__bool__().value;
    };
    return new IteratorValue(pythonIteration(operand).filter((item) => passes(item) === keep), 'generator');
  }

  private testFunction(name: string, environment: Environment): TestFunction {
    const test = TESTS[name] ?? environment.tests.get(name);
    if (!test) throw new Error(`No test named '${name}'.`);
    return test;
  }

  /** map(attribute=..., default=...) or map('filter', *args). */
  private mapFilter(operand: RuntimeValue, [positional, named]: Arguments, environment: Environment): RuntimeValue {
    if (operand.type === 'NullValue' || operand.type === 'UndefinedValue') return new IteratorValue([], 'generator');
    const items = pythonIteration(operand);
    const attribute = named.get('attribute');
    if (attribute) {
      const fallback = named.get('default');
      return new IteratorValue(items.map((item) => {
        const value = attributeOf(item, String(attribute.value));
        return value.type === 'UndefinedValue' && fallback ? fallback : value;
      }), 'generator');
    }
    const [filterName, ...filterArguments] = positional;
    if (filterName === undefined) throw new Error('map requires a filter argument');
    const filter: SyntaxNode =
      filterArguments.length === 0
        ? { type: 'Identifier', value: String(filterName.value) }
        : { type: 'CallExpression', callee: { type: 'Identifier', value: String(filterName.value) }, args: filterArguments.map(evaluated) };
    return new IteratorValue(items.map((item) => this.filter({ type: 'FilterExpression', operand: evaluated(item), filter }, environment)), 'generator');
  }

  private test(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operand = this.evaluate(node.operand, environment);
    const check = TESTS[node.test.value];
    if (!check) return super.evaluate({ ...node, operand: evaluated(operand) }, environment);
    const result = check(operand);
    return new BooleanValue(node.negate ? !result : result);
  }

  private binary(node: SyntaxNode, environment: Environment): RuntimeValue {
    const operator: string = node.operator.value;
    if (operator === 'and' || operator === 'or') return super.evaluate(node, environment);
    const left = this.evaluate(node.left, environment);
    const right = this.evaluate(node.right, environment);
    switch (operator) {
      case '~':
        return new StringValue(pythonStr(left) + pythonStr(right));
      case '+':
        if (left.type === 'UndefinedValue' || right.type === 'UndefinedValue') {
          throw new Error(`${describeUndefined(left.type === 'UndefinedValue' ? node.left : node.right)} is undefined`);
        }
        if (isString(left) || isString(right)) return addStrings(left, right);
        break;
      case '==':
        return new BooleanValue(pythonEquals(left, right));
      case '!=':
        return new BooleanValue(!pythonEquals(left, right));
      case 'in':
        return new BooleanValue(pythonContains(right, left));
      case 'not in':
        return new BooleanValue(!pythonContains(right, left));
      case '*':
        if ((isString(left) || isList(left)) && right.type === 'IntegerValue') return repeated(left, right.value);
        if ((isString(right) || isList(right)) && left.type === 'IntegerValue') return repeated(right, left.value);
        break;
      case '<': case '>': case '<=': case '>=':
        if (isString(left) && isString(right)) return new BooleanValue(compareWith(operator, compareCodePoints(left.value, right.value)));
        break;
    }
    return super.evaluate({ ...node, left: evaluated(left), right: evaluated(right) }, environment);
  }

  /** jinja2 raises when reading an attribute or item of an undefined value; dicts may have integer keys. */
  private member(node: SyntaxNode, environment: Environment): RuntimeValue {
    const object = this.evaluate(node.object, environment);
    if (object.type === 'UndefinedValue') throw new Error(`${describeUndefined(node.object)} is undefined`);
    if (object instanceof IteratorValue && node.computed) throw new Error(`'${object.pythonType}' object is not subscriptable`);
    if (object instanceof IntegerKeyedDict && node.computed && node.property.type !== 'SliceExpression') {
      const key = dictKey(object, this.evaluate(node.property, environment));
      return (key !== undefined ? object.value.get(key) : undefined) ?? new UndefinedValue();
    }
    return super.evaluate({ ...node, object: evaluated(object) }, environment);
  }

  private call(node: SyntaxNode, environment: Environment): RuntimeValue {
    const callee: SyntaxNode = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed) return super.evaluate(node, environment);
    const object = this.evaluate(callee.object, environment);
    if (object.type === 'UndefinedValue') throw new Error(`${describeUndefined(callee.object)} is undefined`);
    const stringMethod = STRING_METHODS[callee.property.value];
    if (isString(object) && stringMethod) return stringMethod(object.value, ...this.arguments(node.args, environment));
    if (isDict(object) && callee.property.value === 'items' && node.args.length === 0) return new ArrayValue(pairsOf(object.items().value));
    const method = super.evaluate({ ...callee, object: evaluated(object) }, environment);
    if (method.type === 'UndefinedValue') throw new Error(`'${pythonTypeName(object)} object' has no attribute '${callee.property.value}'`);
    return super.evaluate({ ...node, callee: evaluated(method) }, environment);
  }

  private dictLiteral(node: SyntaxNode, environment: Environment): RuntimeValue {
    const entries = new Map<string, RuntimeValue>();
    const originalKeys = new Map<string, RuntimeValue>();
    for (const [keyNode, valueNode] of node.value as Map<SyntaxNode, SyntaxNode>) {
      const key = this.evaluate(keyNode, environment);
      if (!isString(key) && key.type !== 'IntegerValue') throw new Error(`dict keys of type ${pythonTypeName(key)} are not supported`);
      const encoded = String(key.value);
      if (originalKeys.has(encoded) && originalKeys.get(encoded)!.type !== key.type) throw new Error(`dict keys ${encoded} and '${encoded}' together are not supported`);
      originalKeys.set(encoded, key);
      entries.set(encoded, this.evaluate(valueNode, environment));
    }
    const hasIntegerKeys = Array.from(originalKeys.values()).some((key) => key.type === 'IntegerValue');
    return hasIntegerKeys ? new IntegerKeyedDict(entries, originalKeys) : new ObjectValue(entries);
  }

  /**
   * jinja2 macros see the variables where they are defined, not the caller's; the library runs a macro
   * in the calling scope, so the macro it defines is given the defining scope instead (and `caller`
   * when a call block invokes it).
   */
  private macro(node: SyntaxNode, environment: Environment): RuntimeValue {
    const result = super.evaluate(node, environment);
    const name: string = node.name.value;
    const body = environment.lookupVariable(name).value as Callable;
    environment.setVariable(
      name,
      new FunctionValue((args, callingScope) => {
        const scope = new Environment(environment);
        const caller = callingScope.variables.get('caller');
        if (caller) scope.setVariable('caller', caller);
        return body(args, scope);
      }),
    );
    return result;
  }

  /**
   * The output of a block's statements. Output made before a `{% break %}`/`{% continue %}` is kept,
   * as jinja2 streams it.
   */
  private block(statements: SyntaxNode[], environment: Environment): string {
    let output = '';
    for (const statement of statements) {
      try {
        const value = this.evaluate(statement, environment);
        if (value.type !== 'NullValue' && value.type !== 'UndefinedValue') output += pythonStr(value);
      } catch (error) {
        if (error instanceof LoopControl) error.partialOutput = output + error.partialOutput;
        throw error;
      }
    }
    return output;
  }

  /**
   * jinja2's for loop: each iteration has its own scope (a `set` does not carry over to the next one),
   * strings iterate by character, undefined iterates as empty, and the else block renders when no
   * iteration ran to its end.
   */
  private forLoop(node: SyntaxNode, environment: Environment): RuntimeValue {
    const filtered = node.iterable.type === 'SelectExpression';
    let items = pythonIteration(this.evaluate(filtered ? node.iterable.lhs : node.iterable, environment));
    if (filtered) {
      items = items.filter((item) => {
        const scope = new Environment(environment);
        this.bindLoopVariable(node.loopvar, item, scope);
        return this.evaluate(node.iterable.test, scope).__bool__().value;
      });
    }
    let output = '';
    let anIterationCompleted = false;
    const changedSince = { last: undefined as RuntimeValue[] | undefined };
    for (let index = 0; index < items.length; index++) {
      const scope = new Environment(environment);
      scope.setVariable('loop', loopObject(items, index, changedSince));
      this.bindLoopVariable(node.loopvar, items[index], scope);
      try {
        output += this.block(node.body, scope);
        anIterationCompleted = true;
      } catch (error) {
        if (!(error instanceof LoopControl)) throw error;
        output += error.partialOutput;
        if (error.kind === 'break') break;
      }
    }
    if (!anIterationCompleted) output += this.block(node.defaultBlock, new Environment(environment));
    return new StringValue(output);
  }

  private bindLoopVariable(target: SyntaxNode, item: RuntimeValue, scope: Environment): void {
    if (target.type === 'Identifier') {
      scope.setVariable(target.value, item);
      return;
    }
    const names = target.value as SyntaxNode[];
    const values = pythonIteration(item);
    if (values.length !== names.length) {
      throw new Error(values.length > names.length ? `too many values to unpack (expected ${names.length})` : `not enough values to unpack (expected ${names.length}, got ${values.length})`);
    }
    names.forEach((name, i) => scope.setVariable(name.value, values[i]));
  }
}

/** jinja2's `loop` inside a for loop. */
function loopObject(items: RuntimeValue[], index: number, changedSince: { last: RuntimeValue[] | undefined }): RuntimeValue {
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

/** Python's str + str; a str added to a Markup string (from `|safe`) is HTML-escaped first. */
function addStrings(left: RuntimeValue, right: RuntimeValue): RuntimeValue {
  for (const value of [left, right]) {
    if (!isString(value)) throw new Error(`can only concatenate str (not "${pythonTypeName(value)}") to str`);
  }
  if (!markupStrings.has(left) && !markupStrings.has(right)) return new StringValue(left.value + right.value);
  const safe = (value: RuntimeValue) => (markupStrings.has(value) ? value.value : htmlEscape(value.value));
  return markup(safe(left) + safe(right));
}

function repeated(sequence: RuntimeValue, times: number): RuntimeValue {
  const count = Math.max(0, times);
  if (isString(sequence)) return new StringValue((sequence.value as string).repeat(count));
  return new ArrayValue(Array.from({ length: count }, () => sequence.value as RuntimeValue[]).flat());
}

function compareWith(operator: string, order: number): boolean {
  return operator === '<' ? order < 0 : operator === '>' ? order > 0 : operator === '<=' ? order <= 0 : order >= 0;
}

function describeUndefined(node: SyntaxNode): string {
  if (node.type === 'Identifier') return `'${node.value}'`;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') return `'${describeUndefined(node.object).replaceAll("'", '')}.${node.property.value}'`;
  return 'a value';
}

// ---------------------------------------------------------------------------------------------
// Compiled templates

function raiseException(message: unknown): never {
  throw new RaisedByTemplate(String(message));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ChatTemplate {
  readonly source: string;
  /** True when the source refers to a variable named `tools`. */
  readonly readsTools: boolean;
  private readonly program: SyntaxNode;
  private readonly printedExpressions = new WeakSet<SyntaxNode>();

  private constructor(
    source: string,
    template: Template,
    private readonly tokens: { bosToken: string; eosToken: string },
  ) {
    this.source = source;
    this.program = template.parsed as SyntaxNode;
    collectPrintedExpressions(this.program.body, this.printedExpressions);
    this.readsTools = referencesVariable(source, 'tools');
  }

  /** Throws TemplateError when the source does not parse. */
  static compile(source: string, tokens: { bosToken: string; eosToken: string }): ChatTemplate {
    let template: Template;
    try {
      template = new Template(rewriteGenerationBlocks(source));
    } catch (error) {
      throw new TemplateError(`cannot parse the chat template: ${messageOf(error)}`);
    }
    return new ChatTemplate(source, template, tokens);
  }

  /** Throws TemplateError; for `raise_exception(msg)` its message is exactly `msg`. */
  render(input: RenderInput): string {
    const interpreter = new Jinja2CompatibleInterpreter(this.environmentFor(input), this.printedExpressions);
    try {
      return interpreter.run(this.program).value as string;
    } catch (error) {
      throw new TemplateError(messageOf(error));
    }
  }

  private environmentFor(input: RenderInput): Environment {
    const variables: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      range: pythonRange,
      raise_exception: raiseException,
      strftime_now: (format: string) => strftime(input.now ?? new Date(), format),
      // transformers passes tools and documents as None when the caller gives none.
      messages: input.messages,
      tools: input.tools ?? null,
      documents: null,
      add_generation_prompt: input.addGenerationPrompt,
      bos_token: this.tokens.bosToken,
      eos_token: this.tokens.eosToken,
      ...input.extra,
    };
    const environment = new Environment();
    for (const [name, value] of Object.entries(variables)) environment.set(name, value);
    return environment;
  }
}
