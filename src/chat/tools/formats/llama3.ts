// Llama 3.1 / 3.2 / 3.3 custom ("zero-shot") tools: the template tells the model to respond with
// a JSON object of the call, and renders an assistant tool call the same way:
//   {"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}
// The model may put its `<|python_tag|>` special token before it (with `Environment: ipython` in
// the system prompt, the token that opens a tool call).
//
// Meta documents one call per message (the templates raise "This model only supports single
// tool-calls at once!" for more), so there is no trained separator for parallel calls. When more
// than one call is allowed the grammar writes them separated by `; `, which is how Llama 3.x is
// commonly observed to chain calls and what other servers read; the parser is liberal and takes
// `;`, newlines or nothing between objects, and `"arguments"` as well as `"parameters"`.
//
// Built-in tools (`<|python_tag|>brave_search.call(query="...")`, code_interpreter) are not calls
// here: the server never defines `builtin_tools`, and such text stays content.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, skipWhitespace } from '../json-scan.js';
import { jsonCallAt } from './hermes.js';

const PYTHON_TAG = '<|python_tag|>';
/** How every call the grammar writes begins (and what free text may not contain). */
const CALL_START = '{"name"';

function call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`{"name": ${JSON.stringify(tool.name)}, "parameters": `), tg.json(tool.parameters), tg.literal('}'));
}

/** Where the next possible call starts at or after `from` (a `{` or the python tag), or -1. */
function nextCandidate(text: string, from: number): number {
  const brace = text.indexOf('{', from);
  const tag = text.indexOf(PYTHON_TAG, from);
  if (brace < 0) return tag;
  if (tag < 0) return brace;
  return Math.min(brace, tag);
}

/** Past the whitespace, `;` and python tags that may separate two calls. */
function skipSeparators(text: string, at: number): number {
  for (;;) {
    const next = skipWhitespace(text, at);
    if (text[next] === ';') at = next + 1;
    else if (text.startsWith(PYTHON_TAG, next)) at = next + PYTHON_TAG.length;
    else return next;
  }
}

export const llama3: ToolCallFormat = {
  id: 'llama3',
  // The instruction the Llama 3.x templates give with custom tools, or their rendering of a call.
  matches: (template) =>
    template.includes('<|start_header_id|>') &&
    (template.includes('"parameters": dictionary of argument name and its value') ||
      (template.includes(`'{"name": "' + tool_call.name`) && template.includes(`'"parameters": '`))),
  triggers: [PYTHON_TAG],
  // A bare JSON call opens the answer; a JSON object later in a text answer is the answer's own.
  openingTriggers: [CALL_START],
  markers: [PYTHON_TAG],

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(tg.optional(tg.literal(PYTHON_TAG)), callRun(tg.alt(...tools.map(call)), tg.literal('; '), count));
  },

  parse(text: string, { final, tools }: ParseOptions): ParsedOutput {
    // A JSON object in plain text is only a call when it names one of the request's tools (any
    // name when the tools are not known): answers often hold JSON with a "name" key.
    const known = tools && tools.length > 0 ? new Set(tools.map((t) => t.name)) : null;
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    let from = 0;
    for (;;) {
      const start = nextCandidate(text, from);
      if (start < 0) {
        const tail = text.slice(pos);
        content += final ? tail : tail.slice(0, tail.length - heldBack(tail, [PYTHON_TAG]));
        break;
      }
      let body = start;
      if (text.startsWith(PYTHON_TAG, start)) {
        body = skipWhitespace(text, start + PYTHON_TAG.length);
        if (body >= text.length && !final) {
          content += text.slice(pos, start);
          break;
        }
        if (text[body] !== '{') {
          // A built-in tool call or stray tag: content.
          from = start + PYTHON_TAG.length;
          continue;
        }
      }
      // Scanned as text that may go on: at the end of a final text, an open object is a call cut
      // short, with the arguments written so far (as they were streamed).
      const found = jsonCallAt(text, body, false);
      if (found.call && (known === null || known.has(found.call.name))) {
        content += text.slice(pos, start);
        if (found.end === null) {
          // Cut short (or still being written): the arguments written so far, unclosed.
          calls.push({ name: found.call.name, arguments: found.call.arguments.trimEnd() });
          break;
        }
        calls.push(found.call);
        pos = from = skipSeparators(text, found.end);
        continue;
      }
      if (found.end === null && !found.invalid && !final) {
        // An open object: it may still turn out to be a call (or, naming no tool, hold one):
        // held back, with what follows, until it closes.
        content += text.slice(pos, start);
        break;
      }
      // Not a call: its text is content; a whole object is skipped, so objects inside it are too.
      from = found.end ?? body + 1;
    }
    return { content, calls };
  },
};
