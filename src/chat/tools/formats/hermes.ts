// Hermes 2 Pro / Hermes 3 / Qwen 2.5 / QwQ / Qwen3: each call is a JSON object with `name` and
// `arguments` inside `<tool_call>` tags, one tag pair per call:
//   <tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, scanObject, skipWhitespace, stringMember } from '../json-scan.js';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

function call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`${OPEN}\n{"name": ${JSON.stringify(tool.name)}, "arguments": `), tg.json(tool.parameters), tg.literal(`}\n${CLOSE}`));
}

/**
 * A JSON call object `{"name": ..., "arguments": {...}}` at `at`: the call (once its name is known)
 * and where the object ends (null while it is open). `argumentKeys` are the names the arguments
 * may go by.
 */
export function jsonCallAt(
  text: string,
  at: number,
  final: boolean,
  argumentKeys: readonly string[] = ['arguments', 'parameters'],
  nameKey = 'name',
): { call?: ParsedCall; end: number | null; invalid: boolean } {
  // Scanned as text that may grow even when final: the members of a call cut short still count.
  const scan = scanObject(text, at, false);
  const name = stringMember(text, scan.members.find((m) => m.key === nameKey));
  if (name === undefined) return { end: scan.end, invalid: scan.invalid || (scan.end !== null) };
  const args = scan.members.find((m) => argumentKeys.includes(m.key));
  let argumentText: string;
  if (!args) argumentText = scan.end !== null || final ? '{}' : '';
  else if (args.valueEnd !== null) argumentText = text.slice(args.valueStart, args.valueEnd);
  else argumentText = final ? text.slice(args.valueStart).trimEnd() : text.slice(args.valueStart);
  return { call: { name, arguments: argumentText }, end: scan.end, invalid: scan.invalid };
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
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    for (;;) {
      const open = text.indexOf(OPEN, pos);
      if (open < 0) {
        const tail = text.slice(pos);
        content += final ? tail : tail.slice(0, tail.length - heldBack(tail, [OPEN]));
        break;
      }
      content += text.slice(pos, open);
      const body = skipWhitespace(text, open + OPEN.length);
      const found = jsonCallAt(text, body, final);
      if (found.call) calls.push(found.call);
      if (found.end === null || !found.call) {
        if (final && !found.call) content += text.slice(open);
        break;
      }
      pos = skipWhitespace(text, found.end);
      if (text.startsWith(CLOSE, pos)) pos += CLOSE.length;
      else if (!final && CLOSE.startsWith(text.slice(pos))) break;
    }
    return { content, calls };
  },
};
