// gpt-oss (OpenAI harmony): the output is a run of messages, each a header and a body. The prompt
// ends with `<|start|>assistant`, so the first header follows at once; later messages open with
// `<|start|>assistant`. A call is a message to the recipient `functions.NAME` whose body is the JSON
// arguments, the recipient written in the channel part or in the role part of the header:
//   <|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}
//   <|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris"}
// Generation stops at `<|call|>` (or `<|return|>` after a `final` message), an end-of-generation
// token, so one generation holds at most one call.
//
// Content is the text of `final` messages and of `commentary` messages without a recipient
// (preambles), one message's text from the next's by a blank line. `analysis` messages are the
// model's reasoning: neither content nor calls (the server returns no reasoning yet, so that text
// is left out). A message to `functions.NAME` is a call on whatever channel it is written; messages
// to other recipients (the built-in `browser.*` and `python` tools) are left out.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { heldBack, jsonValueEnd, skipWhitespace } from '../json-scan.js';

const START = '<|start|>';
const CHANNEL = '<|channel|>';
const MESSAGE = '<|message|>';
const END = '<|end|>';
const CONSTRAIN = '<|constrain|>';
// End-of-generation tokens: never in the grammar, and the server drops their text, but a text that
// has them (from another engine, or a rendered history) still parses.
const CALL = '<|call|>';
const RETURN = '<|return|>';

const TRIGGER = ' to=functions.';
/** What ends a message body (a missing `<|end|>` before the next header too). */
const BODY_ENDS = [END, CALL, RETURN, START, CHANNEL];
/** What may not come inside a header (before its `<|message|>`). */
const HEADER_BREAKS = [END, CALL, RETURN, START];
/** What a first header (without `<|start|>ROLE`) can open with. */
const HEADER_OPENERS = [START, CHANNEL, MESSAGE, CONSTRAIN, 'to='];

/**
 * One call, from the recipient on: the role-part form the template renders
 * (` to=functions.NAME<|channel|>commentary json<|message|>`) or the rest of the channel-part form
 * after a `<|channel|>commentary` the free text already holds (` to=functions.NAME <|constrain|>json<|message|>`).
 */
function call(tool: ToolSpec): TextGrammar {
  const contentType = tg.optional(tg.alt(tg.literal(` ${CONSTRAIN}json`), tg.literal(`${CONSTRAIN}json`), tg.literal(' json')));
  return tg.seq(
    tg.literal(`${TRIGGER}${tool.name}`),
    tg.optional(tg.literal(`${CHANNEL}commentary`)),
    contentType,
    tg.literal(MESSAGE),
    tg.json(tool.parameters),
  );
}

/** The first of `words` in `text` from `from`: its index (-1: none). */
function firstOf(text: string, words: readonly string[], from: number): number {
  let best = -1;
  for (const word of words) {
    const at = text.indexOf(word, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

/** Past the `<|end|>` (`<|call|>`, `<|return|>`) at `at`, if there is one. */
function pastMessageEnd(text: string, at: number): number {
  const end = [END, CALL, RETURN].find((word) => text.startsWith(word, at));
  return end === undefined ? at : at + end.length;
}

/** Whether a header opens at `at`: yes, no, or not yet known (the text ends in a possible opener). */
function headerOpens(text: string, at: number, final: boolean): 'yes' | 'no' | 'maybe' {
  const rest = text.slice(at);
  if (HEADER_OPENERS.some((opener) => rest.startsWith(opener))) return 'yes';
  if (!final && HEADER_OPENERS.some((opener) => opener.startsWith(rest))) return 'maybe';
  return 'no';
}

interface Header {
  readonly channel?: string;
  readonly recipient?: string;
}

function readHeader(header: string): Header {
  const channel = /<\|channel\|>\s*([^\s<]+)/.exec(header)?.[1];
  const recipient = /(?:^|[\s>])to=([^\s<]+)/.exec(header)?.[1];
  return { channel, recipient };
}

/** The function a recipient names, if it is one. */
function functionName(recipient: string | undefined): string | undefined {
  if (recipient === undefined || !recipient.startsWith('functions.')) return undefined;
  const name = recipient.slice('functions.'.length);
  return name.length > 0 ? name : undefined;
}

/**
 * The arguments in a call's body: the JSON value it starts with, exactly as written. `terminated`:
 * the body's end is known; `final`: the text ends here.
 */
function argumentsOf(body: string, terminated: boolean, final: boolean): string {
  const at = skipWhitespace(body, 0);
  // An ended body without arguments has none ({}); one cut before they began has none written ('').
  if (at >= body.length) return terminated ? '{}' : '';
  const value = jsonValueEnd(body, at, terminated || final);
  if (value.kind === 'complete') return body.slice(at, value.end);
  // Not JSON, or cut short: the text as the model wrote it (untrimmed: what was streamed stays a prefix).
  return body.slice(at);
}

export const gptOss: ToolCallFormat = {
  id: 'gpt-oss',
  matches: (template) => template.includes(CHANNEL) && template.includes(`${START}assistant`) && template.includes('to='),
  // The recipient opens a call in both header forms; free text (harmony messages on any channel)
  // may hold anything else.
  triggers: [TRIGGER],
  markers: [START, CHANNEL, MESSAGE, END, CONSTRAIN],

  /**
   * One call whatever `count.max` is: harmony ends the generation at `<|call|>`, after the first
   * call. The grammar begins at the recipient, so with `auto` the model may first write any
   * messages (analysis, a preamble) and `<|start|>assistant` or `<|start|>assistant<|channel|>commentary`
   * before it; with a required or named call it has no room for analysis and starts with the call.
   */
  callsGrammar(tools: readonly ToolSpec[], _count: CallCount): TextGrammar {
    return tg.alt(...tools.map(call));
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    const addContent = (piece: string) => {
      if (piece.trim().length === 0) return;
      content += content.length > 0 ? `\n\n${piece}` : piece;
    };
    let pos = 0;
    while (pos < text.length) {
      // The header: after `<|start|>` (its role first), or at once for the first message.
      const at = skipWhitespace(text, pos);
      const opens = headerOpens(text, at, final);
      if (opens === 'maybe') break;
      if (opens === 'no') {
        // Text outside the harmony structure: content, up to the next structure.
        const next = firstOf(text, BODY_ENDS, pos);
        if (next < 0) {
          const tail = text.slice(pos);
          addContent(final ? tail : tail.slice(0, tail.length - heldBack(tail, BODY_ENDS)));
          break;
        }
        addContent(text.slice(pos, next));
        pos = pastMessageEnd(text, next);
        continue;
      }
      const headerStart = text.startsWith(START, at) ? at + START.length : at;
      const message = text.indexOf(MESSAGE, headerStart);
      const broken = firstOf(text, HEADER_BREAKS, headerStart);
      if (message < 0 || (broken >= 0 && broken < message)) {
        if (broken >= 0) {
          // A header that never got to its body: nothing to read in it.
          pos = pastMessageEnd(text, broken);
          continue;
        }
        if (!final) break;
        // Cut short inside a header: a call when it names a function.
        const header = text.slice(headerStart);
        const name = functionName(readHeader(header).recipient);
        if (name !== undefined) calls.push({ name, arguments: '' });
        else if (header.includes(TRIGGER.trimStart())) addContent(text.slice(pos));
        break;
      }
      const header = readHeader(text.slice(headerStart, message));
      const bodyStart = message + MESSAGE.length;
      let bodyEnd = firstOf(text, BODY_ENDS, bodyStart);
      const terminated = bodyEnd >= 0;
      if (!terminated) bodyEnd = final ? text.length : text.length - heldBack(text.slice(bodyStart), BODY_ENDS);
      const body = text.slice(bodyStart, bodyEnd);
      const name = functionName(header.recipient);
      if (name !== undefined) calls.push({ name, arguments: argumentsOf(body, terminated, final) });
      else if (header.recipient === undefined && header.channel !== 'analysis') addContent(body);
      if (!terminated) break;
      pos = pastMessageEnd(text, bodyEnd);
    }
    return { content, calls };
  },
};
