// GLM-4.5 / 4.6 / 4.7 (and the templates that took their format: Ling 3, Laguna, Spark): each call
// is the function's name after `<tool_call>`, then each parameter as an `<arg_key>` and an
// `<arg_value>` tag, the value raw (a string as the text itself, anything else as JSON). GLM-4.5
// and 4.6 put each tag on a line of its own, GLM-4.7 writes them with no line breaks:
//   <tool_call>get_weather
//   <arg_key>city</arg_key>
//   <arg_value>Paris</arg_value>
//   </tool_call>
//   <tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value></tool_call>
import { oneCallBlock, parseBlocks } from '../blocks.js';
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { skipWhitespace } from '../json-scan.js';
import { ArgumentsText, parametersGrammar, valueGrammar, valueSoFar } from './xml-arguments.js';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const KEY = '<arg_key>';
const KEY_END = '</arg_key>';
const VALUE = '<arg_value>';
const VALUE_END = '</arg_value>';

/** The line break either generation writes between tags. */
const BREAK = tg.optional(tg.literal('\n'));

function call(tool: ToolSpec): TextGrammar {
  const parameter = (key: string, schema: unknown) =>
    tg.seq(tg.literal(`${KEY}${key}${KEY_END}`), BREAK, tg.literal(VALUE), valueGrammar(schema, VALUE_END), tg.literal(VALUE_END), BREAK);
  return tg.seq(tg.literal(`${OPEN}${tool.name}`), BREAK, parametersGrammar(tool, parameter), tg.literal(CLOSE));
}

/**
 * The call whose name starts at `at` (once the name has ended) and where it ends (null while it is
 * open or when it stops being well formed).
 */
function callAt(
  text: string,
  at: number,
  final: boolean,
  tools: readonly ToolSpec[] | undefined,
): { call?: ParsedCall; end: number | null } {
  const start = skipWhitespace(text, at);
  const nameEnd = text.slice(start).search(/[\n<]/);
  if (nameEnd < 0) return { end: null };
  const name = text.slice(start, start + nameEnd).trim();
  if (name.length === 0) return { end: null };
  const args = new ArgumentsText(tools, name);
  let pos = skipWhitespace(text, start + nameEnd);
  for (;;) {
    if (text.startsWith(KEY, pos)) {
      const keyEnd = text.indexOf(KEY_END, pos + KEY.length);
      if (keyEnd < 0) break;
      const value = skipWhitespace(text, keyEnd + KEY_END.length);
      if (!text.startsWith(VALUE, value)) break;
      const valueEnd = text.indexOf(VALUE_END, value + VALUE.length);
      if (valueEnd < 0) {
        // Cut short inside the value: the parameter as far as it was written.
        if (final)
          return {
            call: {
              name,
              arguments: args.cut(text.slice(pos + KEY.length, keyEnd).trim(), valueSoFar(text, value + VALUE.length, VALUE_END)),
            },
            end: null,
          };
        break;
      }
      args.add(text.slice(pos + KEY.length, keyEnd).trim(), text.slice(value + VALUE.length, valueEnd));
      pos = skipWhitespace(text, valueEnd + VALUE_END.length);
      continue;
    }
    if (text.startsWith(CLOSE, pos)) return { call: { name, arguments: args.result(true) }, end: pos + CLOSE.length };
    break;
  }
  // Open (or cut short, or no longer well formed): the parameters that closed, never closed here.
  return { call: { name, arguments: args.result(false) }, end: null };
}

export const glm: ToolCallFormat = {
  id: 'glm',
  matches: (template) => template.includes(OPEN) && template.includes(KEY) && template.includes(VALUE),
  triggers: [OPEN],
  markers: [OPEN, CLOSE, KEY, KEY_END, VALUE, VALUE_END],
  reasoning: { start: '<think>', end: '</think>' },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return callRun(tg.alt(...tools.map(call)), BREAK, count);
  },

  parse(text: string, { final, tools }: ParseOptions): ParsedOutput {
    return parseBlocks(text, final, { opener: OPEN, read: (t, at, f) => oneCallBlock(callAt(t, at, f, tools), f) });
  },
};
