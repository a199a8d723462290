// What the formats that write arguments as tagged text (Qwen3-Coder's `<parameter=...>`, GLM's
// `<arg_key>`/`<arg_value>`) share: a parameter's value is raw text, the text itself for a string
// parameter and JSON text otherwise, so the arguments JSON is built here from the tool's schema,
// one parameter at a time as each one closes; and the grammar of the parameters in schema order.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { ToolSpec } from '../format.js';
import { SchemaError } from '../../../grammar/json-schema/index.js';
import { heldBack } from '../json-scan.js';

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema of parameter `key` of tool `name` (undefined: unknown tool or parameter). */
function parameterSchema(tools: readonly ToolSpec[] | undefined, name: string, key: string): Schema | undefined {
  const tool = tools?.find((t) => t.name === name);
  const properties = tool?.parameters.properties;
  if (!isSchema(properties) || !Object.hasOwn(properties, key)) return undefined;
  const schema = properties[key];
  return isSchema(schema) ? schema : undefined;
}

/** String values the schema lists (`enum` / `const`), or undefined when it lists none or not only strings. */
function stringChoices(schema: Schema): string[] | undefined {
  const values = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : 'const' in schema ? [schema.const] : undefined;
  if (!values || values.length === 0 || !values.every((v) => typeof v === 'string')) return undefined;
  return values as string[];
}

/** Whether the parameter's value is written as plain text (a string parameter). */
function isStringSchema(schema: Schema | undefined): boolean {
  if (!schema) return false;
  const type = schema.type;
  if (type === 'string') return true;
  if (Array.isArray(type)) return type.length === 1 && type[0] === 'string';
  return type === undefined && stringChoices(schema) !== undefined;
}

// What a template that prints a value with Python's `str()` writes for these.
const PYTHON_LITERALS: Record<string, string> = { True: 'true', False: 'false', None: 'null' };

/**
 * The JSON text of a raw parameter value: a JSON string of the text for a string parameter;
 * otherwise the value's own JSON text when it is JSON, else a JSON string of it.
 */
function valueJson(raw: string, schema: Schema | undefined): string {
  if (isStringSchema(schema)) return JSON.stringify(raw);
  const trimmed = raw.trim();
  try {
    JSON.parse(trimmed);
    return trimmed;
  } catch {
    return PYTHON_LITERALS[trimmed] ?? JSON.stringify(raw);
  }
}

/**
 * A call's arguments object as its parameters close: `{"key": value` with the first parameter,
 * then `, "key": value` for each next one, and `}` once the call closes (`{}` for a call closed
 * without any). Only ever grows; a call cut short keeps the parameters written, unclosed.
 */
export class ArgumentsText {
  private text = '{';
  private count = 0;

  constructor(
    private readonly tools: readonly ToolSpec[] | undefined,
    private readonly name: string,
  ) {}

  add(key: string, raw: string): void {
    const value = valueJson(raw, parameterSchema(this.tools, this.name, key));
    this.text += `${this.count > 0 ? ', ' : ''}${JSON.stringify(key)}: ${value}`;
    this.count++;
  }

  /**
   * The arguments of a call cut short inside parameter `key`, whose value so far is `raw`: the
   * parameters written, then this one as far as it goes (a string value without its closing quote).
   */
  cut(key: string, raw: string): string {
    const value = isStringSchema(parameterSchema(this.tools, this.name, key)) ? JSON.stringify(raw).slice(0, -1) : raw.trim();
    return `${this.text}${this.count > 0 ? ', ' : ''}${JSON.stringify(key)}: ${value}`;
  }

  /** The text so far, with the closing brace when `closed`; empty while open without parameters. */
  result(closed: boolean): string {
    if (closed) return `${this.text}}`;
    return this.count > 0 ? this.text : '';
  }
}

/** The value of a parameter cut short, from `from` to the end of the text, without a closing tag begun. */
export function valueSoFar(text: string, from: number, closer: string): string {
  const value = from < text.length ? text.slice(from) : '';
  return value.slice(0, value.length - heldBack(value, [closer]));
}

/**
 * The value of a parameter in a grammar: for a string parameter its listed strings, or any text
 * without `closer` (the tag that ends the value); otherwise a JSON value under its schema.
 */
export function valueGrammar(schema: unknown, closer: string): TextGrammar {
  const object = isSchema(schema) ? schema : undefined;
  if (object && isStringSchema(object)) {
    const choices = stringChoices(object);
    if (choices) return tg.alt(...choices.map((choice) => tg.literal(choice)));
    const refused = Object.keys(object).find((key) => !TEXT_KEYWORDS.has(key));
    if (refused)
      throw new SchemaError(
        `\`${refused}\` of a string parameter cannot be enforced on the text this format writes (use an enum, or minLength/maxLength)`,
        '',
      );
    if (object.minLength === undefined && object.maxLength === undefined) return tg.text(closer);
    // Bounded text is held to characters other than `<`, so that it can never hold the closing tag.
    const min = typeof object.minLength === 'number' ? object.minLength : 0;
    const max = typeof object.maxLength === 'number' ? String(object.maxLength) : '';
    return tg.regex(`[^<]{${min},${max}}`);
  }
  return tg.json(schema ?? {});
}

/** What a free-text string parameter may say of itself: its type, lengths and annotations. */
const TEXT_KEYWORDS = new Set([
  'type',
  'minLength',
  'maxLength',
  'description',
  'title',
  'default',
  'examples',
  '$comment',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/**
 * A tool's parameters in the order of its schema's `properties`, the required ones always there,
 * each optional one possibly left out; `parameter(key, schema)` is one written parameter.
 */
export function parametersGrammar(tool: ToolSpec, parameter: (key: string, schema: unknown) => TextGrammar): TextGrammar {
  const properties = isSchema(tool.parameters.properties) ? tool.parameters.properties : {};
  const required = Array.isArray(tool.parameters.required) ? (tool.parameters.required as unknown[]) : [];
  return tg.seq(
    ...Object.entries(properties).map(([key, schema]) => {
      const item = parameter(key, schema);
      return required.includes(key) ? item : tg.optional(item);
    }),
  );
}
