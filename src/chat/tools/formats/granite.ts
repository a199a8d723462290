// IBM Granite 3.x: the calls as a JSON list of call objects after the `<|tool_call|>` token, as
// the template's system prompt asks ("respond only with <|tool_call|> followed by a JSON list of
// tools used"):
//   <|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": ...}]
// The template also defines a thinking mode: thoughts between `<think></think>`, the answer between
// `<response></response>` (those two tags are framing, not content).
// Granite 4.0 and 4.1 write Hermes' `<tool_call>` blocks instead; their templates are Hermes'.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { parseBlocks } from '../blocks.js';
import { sectionAt, sectionRead } from './mistral.js';

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
    return parseBlocks(text, final, {
      opener: TOOL_CALL,
      read: (t, at, f) => sectionRead(sectionAt(t, at, f, false)),
      held: [TOOL_CALL, RESPONSE_OPEN, RESPONSE_CLOSE],
      content: withoutResponseTags,
    });
  },
};
