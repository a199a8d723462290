// DeepSeek's tool-call formats. All of them frame calls with the vocabulary's fullwidth-bar tokens
// (`｜` is U+FF5C, `▁` is U+2581); the models reason in `<think>...</think>` first.
//
// V3 / R1 (and the R1 distills): the call's type, the name, then the arguments in a json fence,
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
//   ```json
//   {"city": "Paris"}
//   ```<｜tool▁call▁end｜>
//   <｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time
//   ```json
//   {"timezone": "CET"}
//   ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//
// V3.1: the name before the separator and bare JSON after it, calls back to back,
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//
// V3.2 and V4 ("DSML"): XML-like invocations whose parameters are written as text (strings as they
// are, other values as JSON), in a `function_calls` block (V3.2) or a `tool_calls` block (V4),
//   <｜DSML｜function_calls>
//   <｜DSML｜invoke name="get_weather">
//   <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
//   <｜DSML｜parameter name="days" string="false">3</｜DSML｜parameter>
//   </｜DSML｜invoke>
//   </｜DSML｜function_calls>
//
// The V3/R1 and V3.1 parsers read both of those forms, and the DSML parsers both block names.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, jsonValueEnd, skipWhitespace } from '../json-scan.js';

const THINK = { start: '<think>', end: '</think>' } as const;

// ---------------------------------------------------------------------------------------------
// What the marker-framed formats share: sections of calls between markers, and JSON arguments
// that run up to the call's end marker.

/** Where one call ends: just past its framing, or null while it is open (or cannot be read). */
export interface CallRead {
  readonly call?: ParsedCall;
  readonly end: number | null;
}

export interface SectionSyntax {
  /** Texts that open a section of calls (the earliest in the text wins). */
  readonly openers: readonly string[];
  /** Openers that are also the first call's own start (the section begins with the call). */
  readonly callOpeners?: readonly string[];
  /** The text each call starts with. */
  readonly callStart: string;
  /** Texts that close a section. */
  readonly closers: readonly string[];
  /** The call whose `callStart` ends just before `at`. */
  readonly callAt: (text: string, at: number, final: boolean) => CallRead;
}

/** The earliest of `markers` in `text` from `from`. */
function earliest(text: string, markers: readonly string[], from: number): { at: number; marker: string } | null {
  let best: { at: number; marker: string } | null = null;
  for (const marker of markers) {
    const at = text.indexOf(marker, from);
    if (at >= 0 && (best === null || at < best.at)) best = { at, marker };
  }
  return best;
}

/**
 * Content and calls of text in which sections of calls are framed by markers. Text outside the
 * sections is content; a section with nothing readable in it is content too once the text is
 * final (or once text follows that cannot continue it).
 */
export function parseCallSections(text: string, final: boolean, syntax: SectionSyntax): ParsedOutput {
  let content = '';
  const calls: ParsedCall[] = [];
  let pos = 0;
  for (;;) {
    const open = earliest(text, syntax.openers, pos);
    if (open === null) {
      const tail = text.slice(pos);
      content += final ? tail : tail.slice(0, tail.length - heldBack(tail, syntax.openers));
      break;
    }
    content += text.slice(pos, open.at);
    const sectionStart = open.at;
    let at = syntax.callOpeners?.includes(open.marker) ? open.at : open.at + open.marker.length;
    let made = 0;
    let inSection = true;
    while (inSection) {
      at = skipWhitespace(text, at);
      if (text.startsWith(syntax.callStart, at)) {
        const read = syntax.callAt(text, at + syntax.callStart.length, final);
        if (read.call) {
          calls.push(read.call);
          made++;
        }
        if (read.end === null) {
          if (final && !read.call) content += text.slice(made === 0 ? sectionStart : at);
          return { content, calls };
        }
        at = read.end;
        continue;
      }
      const close = syntax.closers.find((closer) => text.startsWith(closer, at));
      if (close !== undefined) {
        pos = at + close.length;
        if (made === 0) content += text.slice(sectionStart, pos);
        inSection = false;
        continue;
      }
      const rest = text.slice(at);
      if (rest.length === 0 || (!final && [syntax.callStart, ...syntax.closers].some((m) => m.startsWith(rest)))) {
        // The text ends inside the section.
        if (final && made === 0) content += text.slice(sectionStart);
        return { content, calls };
      }
      // Text that is not a call: the section ended without its closing marker.
      if (made === 0) content += text.slice(sectionStart, at);
      pos = at;
      inSection = false;
    }
  }
  return { content, calls };
}

/**
 * The JSON arguments at `start` (after optional whitespace) up to the call's `endMarker`, or up to
 * one of `stops` (markers that show the call ended without it): the exact text of the JSON value,
 * its stable prefix while it is being written, or the text as it is when it is not JSON. `end` is
 * past the end marker (at a stop), or null while neither has come.
 */
export function jsonArguments(
  text: string,
  start: number,
  final: boolean,
  endMarker: string,
  stops: readonly string[],
): { arguments: string; end: number | null } {
  const bound = earliest(text, [endMarker, ...stops], start);
  const region = bound === null ? text : text.slice(0, bound.at);
  const settled = final || bound !== null;
  const end = bound === null ? (final ? text.length : null) : bound.marker === endMarker ? bound.at + endMarker.length : bound.at;
  const at = skipWhitespace(region, start);
  // A call ended without arguments has none ({}); one cut before they began has none written ('').
  if (at >= region.length) return { arguments: bound !== null ? '{}' : '', end };
  const value = jsonValueEnd(region, at, settled);
  if (value.kind === 'complete') return { arguments: region.slice(at, value.end), end };
  if (settled) return { arguments: region.slice(at).trimEnd(), end };
  // Still being written: all but what may turn out to be a marker.
  const open = region.slice(at);
  return { arguments: open.slice(0, open.length - heldBack(open, [endMarker, ...stops])).trimEnd(), end };
}

// ---------------------------------------------------------------------------------------------
// V3 / R1 and V3.1.

const CALLS_BEGIN = '<｜tool▁calls▁begin｜>';
const CALLS_END = '<｜tool▁calls▁end｜>';
const CALL_BEGIN = '<｜tool▁call▁begin｜>';
const CALL_END = '<｜tool▁call▁end｜>';
const SEP = '<｜tool▁sep｜>';
const FENCE = '```';
const JSON_MARKERS = [CALLS_BEGIN, CALLS_END, CALL_BEGIN, CALL_END, SEP];

/** The call after `<｜tool▁call▁begin｜>` at `at`, in either form. */
function jsonCallAt(text: string, at: number, final: boolean): CallRead {
  const sep = text.indexOf(SEP, at);
  const stop = earliest(text, [CALL_END, CALL_BEGIN, CALLS_END], at);
  if (sep < 0 || (stop !== null && stop.at < sep)) return { end: null };
  const head = text.slice(at, sep).trim();
  let i = sep + SEP.length;
  let name = head;
  if (head === 'function') {
    // V3/R1: the type before the separator, the name on the line after it (unless what follows
    // is already the arguments: then a tool named `function` in the V3.1 form).
    const j = skipWhitespace(text, i);
    if (j >= text.length && !final) return { end: null };
    if (text[j] !== '{' && text[j] !== '`') {
      const nameEnd = earliest(text, ['\n', '`', '{', '<'], i);
      if (nameEnd === null) return { end: null };
      name = text.slice(i, nameEnd.at).trim();
      if (name === '') return { end: null };
      i = nameEnd.at;
    }
  }
  if (name === '') return { end: null };
  // An optional fence (```json) around the arguments.
  const k = skipWhitespace(text, i);
  const rest = text.slice(k, k + FENCE.length);
  if (text.startsWith(FENCE, k)) {
    i = k + FENCE.length;
    while (i < text.length && /[A-Za-z]/.test(text[i])) i++;
    if (i >= text.length && !final) return { call: { name, arguments: '' }, end: null };
  } else if (!final && rest.length > 0 && rest.length < FENCE.length && FENCE.startsWith(rest) && k + rest.length === text.length) {
    return { call: { name, arguments: '' }, end: null };
  }
  const args = jsonArguments(text, i, final, CALL_END, [CALL_BEGIN, CALLS_END]);
  return { call: { name, arguments: args.arguments }, end: args.end };
}

const JSON_SECTIONS: SectionSyntax = {
  openers: [CALLS_BEGIN, CALL_BEGIN],
  callOpeners: [CALL_BEGIN],
  callStart: CALL_BEGIN,
  closers: [CALLS_END],
  callAt: jsonCallAt,
};

function parseJsonCalls(text: string, { final }: ParseOptions): ParsedOutput {
  return parseCallSections(text, final, JSON_SECTIONS);
}

/** The template writes DeepSeek's `<｜tool▁sep｜>` calls (not the DSML ones). */
function writesToolSep(template: string): boolean {
  return template.includes(SEP) && template.includes(CALL_BEGIN);
}

function r1Call(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`${CALL_BEGIN}function${SEP}${tool.name}\n${FENCE}json\n`),
    tg.json(tool.parameters),
    tg.literal(`\n${FENCE}${CALL_END}`),
  );
}

function v31Call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`${CALL_BEGIN}${tool.name}${SEP}`), tg.json(tool.parameters), tg.literal(CALL_END));
}

/** DeepSeek V3 and R1 (with the R1 distills): type, separator, name, and a json fence. */
export const deepseekR1: ToolCallFormat = {
  id: 'deepseek-r1',
  matches: (template) => writesToolSep(template) && template.includes(`${FENCE}json`),
  // A bare call start opens calls for the parser too: kept out of free text as well.
  triggers: [CALLS_BEGIN, CALL_BEGIN],
  markers: JSON_MARKERS,
  reasoning: THINK,

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(tg.literal(CALLS_BEGIN), callRun(tg.alt(...tools.map(r1Call)), tg.literal('\n'), count), tg.literal(CALLS_END));
  },

  parse: parseJsonCalls,
};

/** DeepSeek V3.1: name, separator, bare JSON arguments. */
export const deepseekV31: ToolCallFormat = {
  id: 'deepseek-v3.1',
  matches: (template) => writesToolSep(template) && !template.includes(`${FENCE}json`),
  // A bare call start opens calls for the parser too: kept out of free text as well.
  triggers: [CALLS_BEGIN, CALL_BEGIN],
  markers: JSON_MARKERS,
  reasoning: THINK,

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(tg.literal(CALLS_BEGIN), callRun(tg.alt(...tools.map(v31Call)), tg.seq(), count), tg.literal(CALLS_END));
  },

  parse: parseJsonCalls,
};

// ---------------------------------------------------------------------------------------------
// V3.2 and V4: DSML.

const DSML = '｜DSML｜';
const BLOCKS = ['function_calls', 'tool_calls'] as const;
const BLOCK_OPENS = BLOCKS.map((block) => `<${DSML}${block}>`);
const BLOCK_CLOSES = BLOCKS.map((block) => `</${DSML}${block}>`);
const INVOKE = `<${DSML}invoke name="`;
const INVOKE_CLOSE = `</${DSML}invoke>`;
const PARAMETER = `<${DSML}parameter name="`;
const PARAMETER_CLOSE = `</${DSML}parameter>`;

type Schema = Record<string, unknown>;

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined;
}

function propertySchema(tool: ToolSpec | undefined, key: string): Schema | undefined {
  return asSchema(asSchema(tool?.parameters.properties)?.[key]);
}

/** Whether a value under `schema` may be a string (true when the schema does not say). */
function allowsString(schema: Schema): boolean {
  const { type } = schema;
  if (Array.isArray(schema.enum)) return schema.enum.some((v) => typeof v === 'string');
  if ('const' in schema) return typeof schema.const === 'string';
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) return options.some((option) => allowsString(asSchema(option) ?? {}));
  }
  if (typeof type === 'string') return type === 'string';
  if (Array.isArray(type)) return type.includes('string');
  return true;
}

/** Whether every value under `schema` is a string. */
function onlyString(schema: Schema): boolean {
  if (Array.isArray(schema.enum)) return schema.enum.length > 0 && schema.enum.every((v) => typeof v === 'string');
  if ('const' in schema) return typeof schema.const === 'string';
  return schema.type === 'string';
}

function isJson(text: string): boolean {
  if (text === '') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A parameter's value as JSON text: its `string` attribute says how it is written, the schema helps. */
function parameterJson(raw: string, stringAttribute: string | undefined, schema: Schema | undefined): string {
  const trimmed = raw.trim();
  if (stringAttribute === 'true') return schema && !allowsString(schema) && isJson(trimmed) ? trimmed : JSON.stringify(raw);
  if (stringAttribute === 'false') return isJson(trimmed) ? trimmed : JSON.stringify(raw);
  if (schema && onlyString(schema)) return JSON.stringify(raw);
  return isJson(trimmed) ? trimmed : JSON.stringify(raw);
}

/** The invocation after `<｜DSML｜invoke name="` at `at`; its arguments grow a parameter at a time. */
function dsmlCallAt(text: string, at: number, final: boolean, tools: readonly ToolSpec[]): CallRead {
  const quote = text.indexOf('"', at);
  if (quote < 0) return { end: null };
  const name = text.slice(at, quote);
  const tagEnd = text.indexOf('>', quote);
  if (name === '' || tagEnd < 0) return { end: null };
  const tool = tools.find((t) => t.name === name);
  const members: string[] = [];
  // Closed once the invocation ended; cut short, the parameters written so far, unclosed ('' before any).
  const args = (closed: boolean) => ({
    name,
    arguments: closed ? `{${members.join(', ')}}` : members.length > 0 ? `{${members.join(', ')}` : '',
  });
  let i = tagEnd + 1;
  for (;;) {
    i = skipWhitespace(text, i);
    if (text.startsWith(PARAMETER, i)) {
      const keyEnd = text.indexOf('"', i + PARAMETER.length);
      const open = keyEnd < 0 ? -1 : text.indexOf('>', keyEnd);
      const close = open < 0 ? -1 : text.indexOf(PARAMETER_CLOSE, open);
      if (close < 0 && (!final || open < 0)) return { call: args(false), end: final ? text.length : null };
      const key = text.slice(i + PARAMETER.length, keyEnd);
      const stringAttribute = /\bstring="([^"]*)"/.exec(text.slice(keyEnd, open))?.[1];
      if (close < 0) {
        // Cut short inside the value: the parameter as far as it was written (a string without its closing quote).
        const raw = text.slice(open + 1);
        const value = raw.slice(0, raw.length - heldBack(raw, [PARAMETER_CLOSE]));
        const string = stringAttribute === 'true' || (stringAttribute === undefined && onlyString(propertySchema(tool, key) ?? {}));
        members.push(`${JSON.stringify(key)}: ${string ? JSON.stringify(value).slice(0, -1) : value.trim()}`);
        return { call: args(false), end: text.length };
      }
      members.push(`${JSON.stringify(key)}: ${parameterJson(text.slice(open + 1, close), stringAttribute, propertySchema(tool, key))}`);
      i = close + PARAMETER_CLOSE.length;
      continue;
    }
    if (text.startsWith(INVOKE_CLOSE, i)) return { call: args(true), end: i + INVOKE_CLOSE.length };
    const rest = text.slice(i);
    if (rest.length === 0 || [PARAMETER, INVOKE_CLOSE].some((m) => m.startsWith(rest))) {
      return { call: args(false), end: final ? text.length : null };
    }
    // Anything else (the next invocation, the block's end) ends this one.
    return { call: args(true), end: i };
  }
}

function parseDsml(text: string, { final, tools = [] }: ParseOptions): ParsedOutput {
  return parseCallSections(text, final, {
    openers: BLOCK_OPENS,
    callStart: INVOKE,
    closers: BLOCK_CLOSES,
    callAt: (t, at, f) => dsmlCallAt(t, at, f, tools),
  });
}

/** A string parameter's value as the model writes it (raw text), or null when that cannot be held to the schema. */
function rawString(schema: Schema): TextGrammar | null {
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.filter((v): v is string => typeof v === 'string');
    return values.length > 0 ? tg.alt(...values.map((v) => tg.literal(v))) : null;
  }
  if (typeof schema.const === 'string') return tg.literal(schema.const);
  if (schema.pattern !== undefined || schema.format !== undefined) return null;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : null;
  if (min > 0 || max !== null) return tg.regex(`[^<]{${min},${max ?? ''}}`);
  return tg.text(PARAMETER_CLOSE);
}

function parameterGrammar(key: string, schema: Schema): TextGrammar {
  const open = `<${DSML}parameter name="${key}" string="`;
  const options: TextGrammar[] = [];
  const raw = allowsString(schema) && Object.keys(schema).some((k) => ['type', 'enum', 'const'].includes(k)) ? rawString(schema) : null;
  if (raw) options.push(tg.seq(tg.literal('true">'), raw));
  if (!raw || !onlyString(schema)) options.push(tg.seq(tg.literal('false">'), tg.json(schema)));
  return tg.seq(tg.literal(open), tg.alt(...options), tg.literal(`${PARAMETER_CLOSE}\n`));
}

function parametersGrammar(parameters: Schema): TextGrammar {
  const properties = asSchema(parameters.properties);
  const required = Array.isArray(parameters.required) ? parameters.required : [];
  const items: TextGrammar[] = [];
  if (properties && Object.keys(properties).length > 0) {
    for (const [key, value] of Object.entries(properties)) {
      const item = parameterGrammar(key, asSchema(value) ?? {});
      items.push(required.includes(key) ? item : tg.optional(item));
    }
  } else if (parameters.additionalProperties !== false) {
    // No declared parameters: any names, any values.
    const extra = asSchema(parameters.additionalProperties) ?? {};
    const any = tg.seq(
      tg.literal(`<${DSML}parameter name="`),
      tg.regex('[A-Za-z_][A-Za-z0-9_.-]{0,63}'),
      tg.literal('" string="'),
      tg.alt(
        ...(allowsString(extra) ? [tg.seq(tg.literal('true">'), tg.text(PARAMETER_CLOSE))] : []),
        tg.seq(tg.literal('false">'), tg.json(extra)),
      ),
      tg.literal(`${PARAMETER_CLOSE}\n`),
    );
    items.push(tg.repeat(any, 0, null));
  }
  // V4 writes an empty line for a call without arguments.
  items.push(tg.optional(tg.literal('\n')));
  return tg.seq(...items);
}

function dsmlCall(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`${INVOKE}${tool.name}">\n`), parametersGrammar(tool.parameters), tg.literal(`${INVOKE_CLOSE}\n`));
}

function dsmlFormat(id: string, block: (typeof BLOCKS)[number]): ToolCallFormat {
  const open = `<${DSML}${block}>`;
  const close = `</${DSML}${block}>`;
  return {
    id,
    matches: (template) =>
      template.includes(DSML) && template.includes(`${block}>`) && BLOCKS.every((b) => b === block || !template.includes(`${b}>`)),
    // The other version's block opens calls for the parser too: kept out of free text as well.
    triggers: [open, ...BLOCK_OPENS.filter((o) => o !== open)],
    markers: [open, close, INVOKE, INVOKE_CLOSE, PARAMETER, PARAMETER_CLOSE],
    reasoning: THINK,
    callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
      return tg.seq(tg.literal(`${open}\n`), callRun(tg.alt(...tools.map(dsmlCall)), tg.seq(), count), tg.literal(close));
    },
    parse: parseDsml,
  };
}

/** DeepSeek V3.2: DSML invocations in a `function_calls` block. */
export const deepseekV32: ToolCallFormat = dsmlFormat('deepseek-v3.2', 'function_calls');

/** DeepSeek V4: DSML invocations in a `tool_calls` block. */
export const deepseekV4: ToolCallFormat = dsmlFormat('deepseek-v4', 'tool_calls');

/** DeepSeek's formats; their `matches` exclude each other, so their order does not matter. */
export const deepseekFormats: readonly ToolCallFormat[] = [deepseekR1, deepseekV31, deepseekV32, deepseekV4];
