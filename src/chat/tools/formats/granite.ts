// IBM Granite 3.x: the calls as a JSON list of call objects after the `<|tool_call|>` token, as
// the template's system prompt asks ("respond only with <|tool_call|> followed by a JSON list of
// tools used"):
//   <|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": ...}]
// The template also defines a thinking mode: thoughts between `<think></think>`, the answer between
// `<response></response>` (those two tags are framing, not content).
// Granite 4.0 and 4.1 write Hermes' `<tool_call>` blocks instead; their templates are Hermes'.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, skipWhitespace } from '../json-scan.js';
import { jsonCallListAt, jsonCallObjectAt } from './mistral.js';

const TOOL_CALL = '<|tool_call|>';
const RESPONSE_OPEN = '<response>';
const RESPONSE_CLOSE = '</response>';

function call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`{"name": ${JSON.stringify(tool.name)}, "arguments": `), tg.json(tool.parameters), tg.literal('}'));
}

/** Content with the response tags taken out (the text holds no partial tag at its end). */
function withoutResponseTags(text: string): string {
  return text.split(RESPONSE_OPEN).join('').split(RESPONSE_CLOSE).join('');
}

/** The calls after the `<|tool_call|>` that ends just before `at`: a list, or a lone call object. */
function callsAt(text: string, at: number, final: boolean): { calls: ParsedCall[]; next: number | null; invalid: boolean } {
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
  return { calls: [], next: null, invalid: true };
}

export const granite: ToolCallFormat = {
  id: 'granite',
  matches: (template) => template.includes(TOOL_CALL),
  triggers: [TOOL_CALL],
  markers: [TOOL_CALL, '<think>', '</think>', RESPONSE_OPEN, RESPONSE_CLOSE],
  reasoning: { start: '<think>', end: '</think>' },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(tg.literal(`${TOOL_CALL}[`), callRun(tg.alt(...tools.map(call)), tg.literal(', '), count), tg.literal(']'));
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    for (;;) {
      const open = text.indexOf(TOOL_CALL, pos);
      if (open < 0) {
        const tail = text.slice(pos);
        content += withoutResponseTags(final ? tail : tail.slice(0, tail.length - heldBack(tail, [TOOL_CALL, RESPONSE_OPEN, RESPONSE_CLOSE])));
        break;
      }
      content += withoutResponseTags(text.slice(pos, open));
      const found = callsAt(text, open + TOOL_CALL.length, final);
      calls.push(...found.calls);
      if (found.invalid) {
        if (final) content += withoutResponseTags(text.slice(open));
        break;
      }
      if (found.next === null) break;
      pos = found.next;
    }
    return { content, calls };
  },
};
