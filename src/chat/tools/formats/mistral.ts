// Mistral's tool calls, behind the `[TOOL_CALLS]` control token, in the two forms its tokenizers
// have had:
//   a JSON array of call objects (v3 tokenizers: Mistral 7B v0.3, Mistral-Nemo, Mixtral 8x22B),
//   the ids of the calls in the conversation written after name and arguments:
//     [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abcDEF123"}]
//   the name, then `[ARGS]` and the arguments object, the control token before each call (v11 and
//   later: Mistral Small 3.2, Devstral, Magistral, Ministral 3), with `[CALL_ID]` and the call's
//   id between the two where the template writes ids (Mistral Small 3.2):
//     [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"timezone": "CET"}
// Templates that write `[THINK]` (Magistral, Ministral 3 Reasoning) open with a reasoning section
// between `[THINK]` and `[/THINK]`, control tokens too. The parser reads either form whatever the
// template; the grammar writes the template's.
import { randomBytes } from 'node:crypto';
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { jsonValueEnd, skipWhitespace } from '../json-scan.js';
import { jsonCallAt } from './hermes.js';
import { parseBlocks, type BlockRead } from '../blocks.js';

const TOOL_CALLS = '[TOOL_CALLS]';
const ARGS = '[ARGS]';
const CALL_ID = '[CALL_ID]';
const THINK = { start: '[THINK]', end: '[/THINK]' } as const;

/** Mistral's call ids: nine letters and digits. */
const ID_PATTERN = '[a-zA-Z0-9]{9}';

/** What a list of JSON call objects at `at` holds, as far as the text goes. */
interface CallListScan {
  readonly calls: ParsedCall[];
  /** Just past the closing bracket; null while the list is open (or where it went wrong). */
  readonly end: number | null;
  /** The text stopped being a list of call objects (it will not recover). */
  readonly invalid: boolean;
}

/**
 * The JSON call object (`{"name": ..., "arguments": {...}}`) at `at`, read as Hermes' are. The
 * arguments of a call whose object is not closed are what is there without trailing whitespace
 * (a final parse of text cut short keeps them so, unclosed), empty when none were written.
 */
function jsonCallObjectAt(text: string, at: number, final: boolean): { call?: ParsedCall; end: number | null; invalid: boolean } {
  // Scanned as growing text either way, so that a value cut short by the end of generation is kept.
  const found = jsonCallAt(text, at, false);
  if (!found.call) return { end: found.end, invalid: found.invalid || found.end !== null || final };
  if (found.end !== null) return { call: found.call, end: found.end, invalid: false };
  return { call: { name: found.call.name, arguments: found.call.arguments.trimEnd() }, end: null, invalid: found.invalid };
}

/**
 * The JSON list of call objects (`{"name": ..., "arguments": {...}}`, other members ignored)
 * whose `[` is at `at`. The arguments of an unfinished last call are its stable text: trailing
 * whitespace is held back, as a final parse of the cut text drops it.
 */
function jsonCallListAt(text: string, at: number, final: boolean): CallListScan {
  const calls: ParsedCall[] = [];
  const stop = (invalid: boolean): CallListScan => ({ calls, end: null, invalid });
  let i = at + 1;
  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= text.length) return stop(false);
    if (text[i] === ']' && calls.length === 0) return { calls, end: i + 1, invalid: false };
    if (text[i] !== '{') return stop(true);
    const found = jsonCallObjectAt(text, i, final);
    if (found.call) calls.push(found.call);
    if (found.end === null) return stop(found.invalid);
    if (!found.call) return stop(true);
    i = skipWhitespace(text, found.end);
    if (i >= text.length) return stop(false);
    if (text[i] === ']') return { calls, end: i + 1, invalid: false };
    if (text[i] !== ',') return stop(true);
    i++;
  }
}

/** What follows one `[TOOL_CALLS]`: the calls read, and where the text goes on after them. */
export interface SectionScan {
  readonly calls: ParsedCall[];
  /** Where to look for more text after the calls; null: stop reading here. */
  readonly next: number | null;
  /** Nothing here is a call, nor will be (a final parse keeps the marker and the rest as content). */
  readonly invalid: boolean;
}

const NAME = /[^\s[\]{}"]+/y;

/** `name[CALL_ID]id[ARGS]{...}` (the `[CALL_ID]` part optional, `[ARGS]` too before a `{`) at `at`. */
function namedCallAt(text: string, at: number, final: boolean): SectionScan {
  NAME.lastIndex = at;
  const match = NAME.exec(text);
  if (!match) return { calls: [], next: null, invalid: at < text.length || final };
  const name = match[0];
  const nameEnd = at + name.length;
  // A name known to be whole: a call, with what of its arguments is there.
  const callWith = (args: string, next: number | null = null): SectionScan => ({
    calls: [{ name, arguments: args }],
    next,
    invalid: false,
  });
  const waiting = (started: boolean): SectionScan => {
    // Cut before the arguments began: a call with none written.
    if (final) return callWith('');
    return started ? callWith('') : { calls: [], next: null, invalid: false };
  };
  let i = skipWhitespace(text, nameEnd);
  // The text ends in the name, or in a marker after it: the name may be cut (or go on).
  const rest = text.slice(i);
  if (rest === '' || ((ARGS.startsWith(rest) || CALL_ID.startsWith(rest)) && rest !== ARGS && rest !== CALL_ID)) return waiting(false);
  if (text.startsWith(CALL_ID, i)) {
    i = skipWhitespace(text, i + CALL_ID.length);
    while (i < text.length && /[A-Za-z0-9]/.test(text[i])) i++;
    i = skipWhitespace(text, i);
    if (i >= text.length || (ARGS.startsWith(text.slice(i)) && !text.startsWith(ARGS, i))) return waiting(true);
    if (!text.startsWith(ARGS, i) && text[i] !== '{') return callWith(final ? '{}' : '');
  } else if (!text.startsWith(ARGS, i) && text[i] !== '{') {
    return { calls: [], next: null, invalid: true };
  }
  if (text.startsWith(ARGS, i)) i = skipWhitespace(text, i + ARGS.length);
  if (i >= text.length) return waiting(true);
  if (text[i] !== '{') return callWith(final ? '{}' : '');
  const value = jsonValueEnd(text, i, final);
  if (value.kind === 'complete') return callWith(text.slice(i, value.end), value.end);
  // Cut short (final) or still being written: what is there, trailing whitespace held back.
  return callWith(text.slice(i).trimEnd());
}

/** A section scan as a block of calls. */
export function sectionRead(section: SectionScan): BlockRead {
  return { calls: section.calls, end: section.next, invalid: section.invalid };
}

/**
 * The calls after a marker that ends just before `at` (`[TOOL_CALLS]`, Granite's `<|tool_call|>`):
 * a JSON list of call objects, one call object, or (with `named`) the v11 `name[ARGS]{...}` form.
 */
export function sectionAt(text: string, at: number, final: boolean, named: boolean): SectionScan {
  const start = skipWhitespace(text, at);
  if (start >= text.length) return { calls: [], next: null, invalid: final };
  if (text[start] === '[') {
    const list = jsonCallListAt(text, start, final);
    if (list.calls.length === 0) return { calls: [], next: null, invalid: list.invalid || list.end !== null || final };
    return { calls: list.calls, next: list.end, invalid: false };
  }
  if (text[start] === '{') {
    const found = jsonCallObjectAt(text, start, final);
    if (!found.call) return { calls: [], next: null, invalid: found.invalid };
    return { calls: [found.call], next: found.end, invalid: false };
  }
  return named ? namedCallAt(text, start, final) : { calls: [], next: null, invalid: true };
}

function parseMistral(text: string, final: boolean): ParsedOutput {
  return parseBlocks(text, final, { opener: TOOL_CALLS, read: (t, at, f) => sectionRead(sectionAt(t, at, f, true)) });
}

/** One call in the array form; the id is the model's to write, as the template shows it. */
function arrayCall(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`{"name": ${JSON.stringify(tool.name)}, "arguments": `),
    tg.json(tool.parameters),
    tg.optional(tg.seq(tg.literal(', "id": "'), tg.regex(ID_PATTERN), tg.literal('"'))),
    tg.literal('}'),
  );
}

/** One call in the v11 form, `[TOOL_CALLS]` included. */
function namedCall(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`${TOOL_CALLS}${tool.name}`),
    tg.optional(tg.seq(tg.literal(CALL_ID), tg.regex(ID_PATTERN))),
    tg.literal(ARGS),
    tg.json(tool.parameters),
  );
}

/** Whether the template writes the v11 form (`[ARGS]` after the name). */
const writesArgs = (template: string): boolean => template.includes(ARGS);
const writesThink = (template: string): boolean => template.includes(THINK.start) && template.includes(THINK.end);

const ID_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Mistral's templates refuse call ids other than 9 letters or digits. */
function mistralCallId(): string {
  let id = '';
  for (const byte of randomBytes(9)) id += ID_CHARACTERS[byte % ID_CHARACTERS.length];
  return id;
}

function arrayFormat(id: string, reasoning: boolean): ToolCallFormat {
  return {
    id,
    callId: mistralCallId,
    matches: (template) => template.includes(TOOL_CALLS) && !writesArgs(template) && writesThink(template) === reasoning,
    triggers: [TOOL_CALLS],
    markers: reasoning ? [TOOL_CALLS, THINK.start, THINK.end] : [TOOL_CALLS],
    ...(reasoning ? { reasoning: THINK } : {}),
    callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
      return tg.seq(tg.literal(`${TOOL_CALLS}[`), callRun(tg.alt(...tools.map(arrayCall)), tg.literal(', '), count), tg.literal(']'));
    },
    parse: (text: string, { final }: ParseOptions) => parseMistral(text, final),
  };
}

function namedFormat(id: string, reasoning: boolean): ToolCallFormat {
  return {
    id,
    callId: mistralCallId,
    matches: (template) => template.includes(TOOL_CALLS) && writesArgs(template) && writesThink(template) === reasoning,
    triggers: [TOOL_CALLS],
    markers: reasoning ? [TOOL_CALLS, ARGS, CALL_ID, THINK.start, THINK.end] : [TOOL_CALLS, ARGS, CALL_ID],
    ...(reasoning ? { reasoning: THINK } : {}),
    callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
      return callRun(tg.alt(...tools.map(namedCall)), tg.seq(), count);
    },
    parse: (text: string, { final }: ParseOptions) => parseMistral(text, final),
  };
}

/** Mistral-Nemo and the other v3-tokenizer models: `[TOOL_CALLS][{...}, {...}]`. */
export const mistral: ToolCallFormat = arrayFormat('mistral', false);
/** The array form after a `[THINK]` reasoning section. */
export const mistralReasoning: ToolCallFormat = arrayFormat('mistral-reasoning', true);
/** Mistral Small 3.2, Devstral: `[TOOL_CALLS]name[ARGS]{...}` for each call. */
export const mistralV11: ToolCallFormat = namedFormat('mistral-v11', false);
/** Ministral 3 Reasoning, Magistral: the v11 form after a `[THINK]` reasoning section. */
export const mistralV11Reasoning: ToolCallFormat = namedFormat('mistral-v11-reasoning', true);

/** All of Mistral's formats; exactly one matches a template that writes `[TOOL_CALLS]`. */
export const MISTRAL_FORMATS: readonly ToolCallFormat[] = [mistral, mistralReasoning, mistralV11, mistralV11Reasoning];
