// Hermes 2 Pro / Hermes 3 / Qwen 2.5 / QwQ / Qwen3: each call is a JSON object with `name` and
// `arguments` inside `<tool_call>` tags, one tag pair per call:
//   <tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { parseBlocks, type BlockRead } from '../blocks.js';
import { scanObject, skipWhitespace, stringMember } from '../json-scan.js';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

function call(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`${OPEN}\n{"name": ${JSON.stringify(tool.name)}, "arguments": `),
    tg.json(tool.parameters),
    tg.literal(`}\n${CLOSE}`),
  );
}

/**
 * A JSON call object `{"name": ..., "arguments": {...}}` at `at`: the call (once its name is known)
 * and where the object ends (null while it is open). `argumentKeys` are the names the arguments
 * may go by.
 */
export function jsonCallAt(
  text: string,
  at: number,
  _final: boolean,
  argumentKeys: readonly string[] = ['arguments', 'parameters'],
  nameKey = 'name',
): { call?: ParsedCall; end: number | null; invalid: boolean } {
  // Scanned as text that may grow even when final: the members of a call cut short still count.
  const scan = scanObject(text, at, false);
  const name = stringMember(
    text,
    scan.members.find((m) => m.key === nameKey),
  );
  if (name === undefined) return { end: scan.end, invalid: scan.invalid || scan.end !== null };
  const args = scan.members.find((m) => argumentKeys.includes(m.key));
  // A closed call without arguments has none ({}); one cut before they began has none written ('').
  // Arguments cut short are the text written, which may not parse: never closed here.
  let argumentText: string;
  if (!args) argumentText = scan.end !== null ? '{}' : '';
  else if (args.valueEnd !== null) argumentText = text.slice(args.valueStart, args.valueEnd);
  else argumentText = text.slice(args.valueStart);
  return { call: { name, arguments: argumentText }, end: scan.end, invalid: scan.invalid };
}

/** The call object after `<tool_call>`, and the `</tool_call>` after it. */
function readBlock(text: string, at: number, final: boolean): BlockRead {
  const found = jsonCallAt(text, skipWhitespace(text, at), final);
  if (!found.call) return { calls: [], end: null, invalid: final || found.invalid || found.end !== null };
  if (found.end === null) return { calls: [found.call], end: null, invalid: false };
  const after = skipWhitespace(text, found.end);
  if (text.startsWith(CLOSE, after)) return { calls: [found.call], end: after + CLOSE.length, invalid: false };
  // A closing tag still being written is not text yet.
  return { calls: [found.call], end: !final && CLOSE.startsWith(text.slice(after)) ? null : after, invalid: false };
}

export const hermes: ToolCallFormat = {
  id: 'hermes',
  matches: (template) => template.includes(OPEN),
  triggers: [OPEN],
  markers: [OPEN, CLOSE],
  reasoning: { start: '<think>', end: '</think>' },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return callRun(tg.alt(...tools.map(call)), tg.literal('\n'), count);
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    return parseBlocks(text, final, { opener: OPEN, read: readBlock });
  },
};
