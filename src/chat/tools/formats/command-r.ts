// Cohere Command R: the calls are a JSON array of `{"tool_name": ..., "parameters": {...}}` objects,
// parallel calls being elements of the array. Two forms:
//
// Command R / R+ (tool_use template): after `Action:`, in a ```json fence, objects indented as
// Python's json.dumps(indent=4) writes them (the grammar keeps that layout around compact arguments):
//   Action: ```json
//   [
//       {
//           "tool_name": "get_weather",
//           "parameters": {"city": "Paris", "days": 3}
//       }
//   ]
//   ```
// The template asks for a list of actions on every turn, with a `directly-answer` pseudo-tool when
// no tool is needed; a call to it (when the request has no tool of that name) is not a call.
//
// Command R7B, Command A and North (Cohere2) templates: between `<|START_ACTION|>` and
// `<|END_ACTION|>` (special tokens), one object a line with a `tool_call_id`, after an optional
// plan in `<|START_THINKING|>...<|END_THINKING|>`; a text answer is written in
// `<|START_RESPONSE|>...<|END_RESPONSE|>` (`<|START_TEXT|>...<|END_TEXT|>` in the Cohere2 history):
//   <|START_THINKING|>I will look up the weather.<|END_THINKING|><|START_ACTION|>[
//       {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris", "days": 3}}
//   ]<|END_ACTION|>
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, skipWhitespace } from '../json-scan.js';
import { jsonCallAt } from './hermes.js';

const ARGUMENT_KEYS = ['parameters', 'arguments'];
const NAME_KEY = 'tool_name';

interface CallArray {
  /** The calls whose names are known, in order. */
  readonly calls: readonly ParsedCall[];
  /** Just past the closing `]`; null while the array is open (or when it is broken). */
  readonly end: number | null;
  /** The text is not (a prefix of) an array of call objects. */
  readonly invalid: boolean;
}

/** The array of call objects whose `[` is at `at`, as far as the text goes. */
function callArrayAt(text: string, at: number, final: boolean): CallArray {
  const calls: ParsedCall[] = [];
  if (at >= text.length) return { calls, end: null, invalid: final };
  if (text[at] !== '[') return { calls, end: null, invalid: true };
  let i = skipWhitespace(text, at + 1);
  if (text[i] === ']') return { calls, end: i + 1, invalid: false };
  for (;;) {
    if (i >= text.length) return { calls, end: null, invalid: final };
    const found = jsonCallAt(text, i, final, ARGUMENT_KEYS, NAME_KEY);
    if (found.call) calls.push(found.call);
    if (!found.call) return { calls, end: null, invalid: found.invalid };
    if (found.end === null) return { calls, end: null, invalid: false };
    i = skipWhitespace(text, found.end);
    if (i >= text.length) return { calls, end: null, invalid: false };
    if (text[i] === ']') return { calls, end: i + 1, invalid: false };
    if (text[i] !== ',') return { calls, end: null, invalid: true };
    i = skipWhitespace(text, i + 1);
  }
}

// --- Command R / R+ ----------------------------------------------------------------------------

const ACTION = 'Action:';
const FENCE = '```';
const DIRECTLY_ANSWER = 'directly-answer';

function plusCall(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal(`{\n        "tool_name": ${JSON.stringify(tool.name)},\n        "parameters": `),
    tg.json(tool.parameters),
    tg.literal('\n    }'),
  );
}

/**
 * Where the call array after `Action:` begins (its `[`, after an optional ``` fence with a language
 * name), 'wait' while the text could still turn out either way, 'none' when no array follows.
 */
function actionListStart(text: string, at: number, final: boolean): number | 'wait' | 'none' {
  let i = skipWhitespace(text, at);
  if (i >= text.length) return final ? 'none' : 'wait';
  if (text[i] === '`') {
    const rest = text.slice(i, i + FENCE.length);
    if (rest !== FENCE) return !final && FENCE.startsWith(rest) && i + rest.length === text.length ? 'wait' : 'none';
    i += FENCE.length;
    while (i < text.length && /[A-Za-z]/.test(text[i])) i++;
    if (i >= text.length) return final ? 'none' : 'wait';
    i = skipWhitespace(text, i);
    if (i >= text.length) return final ? 'none' : 'wait';
  }
  return text[i] === '[' ? i : 'none';
}

export const commandRPlus: ToolCallFormat = {
  id: 'command-r-plus',
  matches: (template) =>
    template.includes('<|CHATBOT_TOKEN|>') &&
    template.includes(ACTION) &&
    template.includes(NAME_KEY) &&
    !template.includes('<|START_ACTION|>'),
  triggers: [ACTION],
  markers: [],

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(
      tg.literal(ACTION),
      tg.regex('[ \\n]'),
      tg.literal(`${FENCE}json\n[\n    `),
      callRun(tg.alt(...tools.map(plusCall)), tg.literal(',\n    '), count),
      tg.literal('\n]'),
      tg.optional(tg.regex('\\n?```')),
    );
  },

  parse(text: string, { final, tools }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    // The pseudo-tool that stands for "no tool" is not a call, unless the request has such a tool.
    const real = (call: ParsedCall) => call.name !== DIRECTLY_ANSWER || (tools ?? []).some((tool) => tool.name === DIRECTLY_ANSWER);
    let pos = 0;
    for (;;) {
      const open = text.indexOf(ACTION, pos);
      if (open < 0) {
        const tail = text.slice(pos);
        content += final ? tail : tail.slice(0, tail.length - heldBack(tail, [ACTION]));
        break;
      }
      const start = actionListStart(text, open + ACTION.length, final);
      if (start === 'none') {
        // `Action:` in the text, not followed by a list: text.
        content += text.slice(pos, open + ACTION.length);
        pos = open + ACTION.length;
        continue;
      }
      content += text.slice(pos, open);
      if (start === 'wait') break;
      const list = callArrayAt(text, start, final);
      calls.push(...list.calls.filter(real));
      if (list.end === null) {
        if (final && list.calls.length === 0) content += text.slice(open);
        break;
      }
      // The closing fence, when there is one.
      const after = skipWhitespace(text, list.end);
      if (text.startsWith(FENCE, after)) pos = after + FENCE.length;
      else if (!final && FENCE.startsWith(text.slice(after))) break;
      else pos = list.end;
    }
    return { content, calls };
  },
};

// --- Command R7B, Command A, Cohere2 ------------------------------------------------------------

const START_ACTION = '<|START_ACTION|>';
const END_ACTION = '<|END_ACTION|>';
const START_THINKING = '<|START_THINKING|>';
const END_THINKING = '<|END_THINKING|>';
/** The framing of a text answer, left out of the content. */
const ANSWER_FRAMING = ['<|START_RESPONSE|>', '<|END_RESPONSE|>', '<|START_TEXT|>', '<|END_TEXT|>'];
const CONTENT_MARKERS = [START_ACTION, ...ANSWER_FRAMING];

function r7bCall(tool: ToolSpec): TextGrammar {
  return tg.seq(
    tg.literal('{"tool_call_id": "'),
    tg.regex('[0-9]{1,3}'),
    tg.literal(`", "tool_name": ${JSON.stringify(tool.name)}, "parameters": `),
    tg.json(tool.parameters),
    tg.literal('}'),
  );
}

function withoutFraming(text: string): string {
  let out = text;
  for (const marker of ANSWER_FRAMING) out = out.split(marker).join('');
  return out;
}

export const commandR7b: ToolCallFormat = {
  id: 'command-r7b',
  matches: (template) => template.includes(START_ACTION) && template.includes(NAME_KEY),
  triggers: [START_ACTION],
  markers: [START_ACTION, END_ACTION, START_THINKING, END_THINKING, ...ANSWER_FRAMING],
  reasoning: { start: START_THINKING, end: END_THINKING },

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return tg.seq(
      tg.literal(`${START_ACTION}[\n    `),
      callRun(tg.alt(...tools.map(r7bCall)), tg.literal(',\n    '), count),
      tg.literal(`\n]${END_ACTION}`),
    );
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    for (;;) {
      const open = text.indexOf(START_ACTION, pos);
      if (open < 0) {
        const tail = text.slice(pos);
        content += withoutFraming(final ? tail : tail.slice(0, tail.length - heldBack(tail, CONTENT_MARKERS)));
        break;
      }
      content += withoutFraming(text.slice(pos, open));
      // The action ends at `<|END_ACTION|>`: read only up to there.
      const close = text.indexOf(END_ACTION, open);
      const region = close < 0 ? text : text.slice(0, close);
      const closed = final || close >= 0;
      const list = callArrayAt(region, skipWhitespace(region, open + START_ACTION.length), closed);
      calls.push(...list.calls);
      if (list.end === null) {
        // Calls still being written or cut short, or an action not (yet) readable.
        if (list.calls.length > 0 || !(list.invalid || closed)) break;
        // Nothing readable in the action: it is text, as written.
        if (close < 0) {
          if (final) content += text.slice(open);
          break;
        }
        content += text.slice(open, close + END_ACTION.length);
        pos = close + END_ACTION.length;
        continue;
      }
      if (close < 0) {
        if (!final) break;
        pos = list.end;
      } else pos = close + END_ACTION.length;
    }
    return { content, calls };
  },
};

export const commandRFormats: readonly ToolCallFormat[] = [commandRPlus, commandR7b];
