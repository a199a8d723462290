// Qwen3-Coder / Qwen3.5 / Nemotron 3 / Step 3.5: each call is a `<function=...>` block inside
// `<tool_call>` tags, one parameter per `<parameter=...>` block with its raw value on lines of
// its own (a string as the text itself, anything else as JSON):
//   <tool_call>
//   <function=get_weather>
//   <parameter=city>
//   Paris
//   </parameter>
//   <parameter=days>
//   3
//   </parameter>
//   </function>
//   </tool_call>
import { parseBlocks } from '../blocks.js';
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { skipWhitespace } from '../json-scan.js';
import { ArgumentsText, parametersGrammar, valueGrammar, valueSoFar } from './xml-arguments.js';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
const FUNCTION = '<function=';
const FUNCTION_END = '</function>';
const PARAMETER = '<parameter=';
/** A value ends at the line that closes its parameter. */
const VALUE_END = '\n</parameter>';

function call(tool: ToolSpec): TextGrammar {
  const parameter = (key: string, schema: unknown) =>
    tg.seq(tg.literal(`${PARAMETER}${key}>\n`), valueGrammar(schema, VALUE_END), tg.literal(`${VALUE_END}\n`));
  return tg.seq(
    tg.literal(`${OPEN}\n${FUNCTION}${tool.name}>\n`),
    parametersGrammar(tool, parameter),
    tg.literal(`${FUNCTION_END}\n${CLOSE}`),
  );
}

/** The tag name of `<prefix NAME>` at `at` and where the tag ends; null while the tag is open or not a name. */
function tagName(text: string, at: number, prefix: string): { name: string; end: number } | null {
  const close = text.indexOf('>', at + prefix.length);
  if (close < 0) return null;
  const name = text.slice(at + prefix.length, close).trim();
  return name.length > 0 && !/[<\n]/.test(name) ? { name, end: close + 1 } : null;
}

/**
 * The parameters of the function block whose body starts at `at`: the arguments so far and where
 * the block ends (null while it is open or when it stops being well formed).
 */
function functionBody(
  text: string,
  at: number,
  name: string,
  final: boolean,
  tools: readonly ToolSpec[] | undefined,
): { arguments: string; end: number | null } {
  const args = new ArgumentsText(tools, name);
  let pos = skipWhitespace(text, at);
  for (;;) {
    if (text.startsWith(PARAMETER, pos)) {
      const key = tagName(text, pos, PARAMETER);
      if (!key) break;
      // The value is on the lines between the tags: the line break after the opening tag is not part of it.
      const from = text[key.end] === '\n' ? key.end + 1 : key.end;
      const end = text.indexOf(VALUE_END, key.end);
      if (end < 0) {
        // Cut short inside the value: the parameter as far as it was written.
        if (final) return { arguments: args.cut(key.name, valueSoFar(text, from, VALUE_END)), end: null };
        break;
      }
      args.add(key.name, end >= from ? text.slice(from, end) : '');
      pos = skipWhitespace(text, end + VALUE_END.length);
      continue;
    }
    if (text.startsWith(FUNCTION_END, pos)) return { arguments: args.result(true), end: pos + FUNCTION_END.length };
    break;
  }
  // Open (or cut short, or no longer well formed): the parameters that closed, never closed here.
  return { arguments: args.result(false), end: null };
}

/**
 * The calls of the `<tool_call>` block whose body starts at `at`, and where the block ends (null
 * while it is open or when it stops being well formed).
 */
function callBlock(
  text: string,
  at: number,
  final: boolean,
  tools: readonly ToolSpec[] | undefined,
): { calls: ParsedCall[]; end: number | null } {
  const calls: ParsedCall[] = [];
  let pos = skipWhitespace(text, at);
  for (;;) {
    if (text.startsWith(FUNCTION, pos)) {
      const name = tagName(text, pos, FUNCTION);
      if (!name) return { calls, end: null };
      const body = functionBody(text, name.end, name.name, final, tools);
      calls.push({ name: name.name, arguments: body.arguments });
      if (body.end === null) return { calls, end: null };
      pos = skipWhitespace(text, body.end);
      continue;
    }
    if (text.startsWith(CLOSE, pos) && calls.length > 0) return { calls, end: pos + CLOSE.length };
    return { calls, end: null };
  }
}

export const qwen3Coder: ToolCallFormat = {
  id: 'qwen3-coder',
  matches: (template) => template.includes(OPEN) && template.includes(FUNCTION) && template.includes(PARAMETER),
  triggers: [OPEN],
  markers: [OPEN, CLOSE],
  reasoning: { start: '<think>', end: '</think>' },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    // Qwen3-Coder, Qwen3.5 and Nemotron put a line break between calls, Step 3.5 none.
    return callRun(tg.alt(...tools.map(call)), tg.optional(tg.literal('\n')), count);
  },

  parse(text: string, { final, tools }: ParseOptions): ParsedOutput {
    return parseBlocks(text, final, {
      opener: OPEN,
      read: (t, at, f) => {
        const block = callBlock(t, at, f, tools);
        return { calls: block.calls, end: block.end, invalid: block.calls.length === 0 && (f || block.end !== null) };
      },
    });
  },
};
