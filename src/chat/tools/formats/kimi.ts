// Kimi K2 (Instruct and Thinking): a section of calls, each with an id `functions.NAME:INDEX`
// (the index counts calls across the conversation) and JSON arguments, calls back to back:
//   <|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|><|tool_call_begin|>functions.get_time:1<|tool_call_argument_begin|>{"timezone": "CET"}<|tool_call_end|><|tool_calls_section_end|>
// The Thinking model reasons in `<think>...</think>` first. (Kimi K3 writes a different, XML-like
// format: not this one.)
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { jsonArguments, parseCallSections, type CallRead } from './deepseek.js';

const SECTION_BEGIN = '<|tool_calls_section_begin|>';
const SECTION_END = '<|tool_calls_section_end|>';
// The singular spellings some Kimi outputs use.
const SECTION_BEGIN_ALT = '<|tool_call_section_begin|>';
const SECTION_END_ALT = '<|tool_call_section_end|>';
const CALL_BEGIN = '<|tool_call_begin|>';
const ARGUMENTS = '<|tool_call_argument_begin|>';
const CALL_END = '<|tool_call_end|>';

/** The function name in a call id: `functions.get_weather:0` is `get_weather`. */
function nameOf(id: string): string {
  return id
    .trim()
    .replace(/^functions\./, '')
    .replace(/:\d*$/, '');
}

function callAt(text: string, at: number, final: boolean): CallRead {
  const stops = [CALL_BEGIN, SECTION_END, SECTION_END_ALT];
  const argumentsAt = text.indexOf(ARGUMENTS, at);
  const stop = [CALL_END, ...stops]
    .map((m) => ({ m, i: text.indexOf(m, at) }))
    .filter((s) => s.i >= 0)
    .sort((a, b) => a.i - b.i)[0];
  if (argumentsAt < 0 || (stop !== undefined && stop.i < argumentsAt)) {
    // A call without arguments, or one whose id is still being written.
    if (stop === undefined) return { end: null };
    const name = nameOf(text.slice(at, stop.i));
    if (name === '') return { end: null };
    return { call: { name, arguments: '{}' }, end: stop.m === CALL_END ? stop.i + CALL_END.length : stop.i };
  }
  const name = nameOf(text.slice(at, argumentsAt));
  if (name === '') return { end: null };
  const args = jsonArguments(text, argumentsAt + ARGUMENTS.length, final, CALL_END, stops);
  return { call: { name, arguments: args.arguments }, end: args.end };
}

function call(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`${CALL_BEGIN}functions.${tool.name}:`),
    tg.regex('\\d{1,4}'),
    tg.literal(ARGUMENTS),
    tg.json(tool.parameters),
    tg.literal(CALL_END),
  );
}

export const kimi: ToolCallFormat = {
  id: 'kimi-k2',
  matches: (template) => template.includes(SECTION_BEGIN) && template.includes(ARGUMENTS),
  // The texts the parser also opens calls with: kept out of free text as well.
  triggers: [SECTION_BEGIN, SECTION_BEGIN_ALT, CALL_BEGIN],
  markers: [SECTION_BEGIN, SECTION_END, CALL_BEGIN, ARGUMENTS, CALL_END],
  reasoning: { start: '<think>', end: '</think>' },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(tg.literal(SECTION_BEGIN), callRun(tg.alt(...tools.map(call)), tg.seq(), count), tg.literal(SECTION_END));
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    return parseCallSections(text, final, {
      openers: [SECTION_BEGIN, SECTION_BEGIN_ALT, CALL_BEGIN],
      callOpeners: [CALL_BEGIN],
      callStart: CALL_BEGIN,
      closers: [SECTION_END, SECTION_END_ALT],
      callAt,
    });
  },
};
