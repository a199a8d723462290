// MeetKai Functionary (Llama 3.1 based).
//
// v3.1: each call is the function name in a `<function=...>` tag, then the JSON arguments, then
// `</function>`, all on one line; the template writes several calls one after another with
// nothing between them:
//   <function=get_weather>{"city": "Paris", "days": 3}</function><function=get_time>{"timezone": "CET"}</function>
//
// v3.2: the reply is a run of blocks, each `>>>` + recipient + newline + what is said to it. The
// recipient `all` is the user (plain text); any other recipient is a function, and what follows is
// its JSON arguments. Blocks follow one another with nothing between them:
//   >>>all\nLet me check.>>>get_weather\n{"city": "Paris", "days": 3}>>>get_time\n{"timezone": "CET"}
// The template's generation prompt already ends with the first `>>>`, so the generated text
// starts with the first recipient itself (`all\n...` or `get_weather\n{...}`): the parser reads a
// first line naming `all` or a tool (or, without tools, any name) as that first block's recipient.
// A text starting with `>>>` (a forced call, whose grammar writes the marker) reads the same way.
//
// Not supported in either version: the `python` (code interpreter) recipient, whose body is code
// rather than JSON (v3.1 writes it after `<|python_tag|>`: that stays content). In v3.2 a
// non-JSON body is passed on as it was written.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { heldBack, jsonValueEnd, skipWhitespace } from '../json-scan.js';

/** The arguments value at `at` (no leading whitespace): its text and where it ends (null: open). */
function argumentsAt(text: string, at: number, final: boolean): { text: string; end: number | null; json: boolean } {
  const value = jsonValueEnd(text, at, final);
  if (value.kind === 'complete') return { text: text.slice(at, value.end), end: value.end, json: true };
  // Still open, or cut short (final): the text so far, as a stream would have had it.
  const open = value.kind === 'partial' || (final && jsonValueEnd(text, at, false).kind === 'partial');
  return { text: text.slice(at).trimEnd(), end: null, json: open };
}

// ---------------------------------------------------------------------------------------------
// v3.1

const FUNCTION_OPEN = '<function=';
const FUNCTION_CLOSE = '</function>';

function v31Call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`${FUNCTION_OPEN}${tool.name}>`), tg.json(tool.parameters), tg.literal(FUNCTION_CLOSE));
}

export const functionaryV31: ToolCallFormat = {
  id: 'functionary-v3.1',
  // Qwen3-Coder and its followers also write `<function=...>`, with `<parameter=...>` inside.
  matches: (template) => template.includes(FUNCTION_OPEN) && template.includes(FUNCTION_CLOSE) && !template.includes('<parameter='),
  triggers: [FUNCTION_OPEN],
  markers: [],

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return callRun(tg.alt(...tools.map(v31Call)), tg.seq(), count);
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    let from = 0;
    for (;;) {
      const open = text.indexOf(FUNCTION_OPEN, from);
      if (open < 0) {
        const tail = text.slice(pos);
        content += final ? tail : tail.slice(0, tail.length - heldBack(tail, [FUNCTION_OPEN]));
        break;
      }
      const nameStart = open + FUNCTION_OPEN.length;
      const name = /^[^\s<>]*/.exec(text.slice(nameStart, nameStart + 256))![0];
      const nameEnd = nameStart + name.length;
      if (nameEnd >= text.length && !final) {
        // The name is still being written.
        content += text.slice(pos, open);
        break;
      }
      if (name.length === 0 || text[nameEnd] !== '>') {
        // Not a call tag: content.
        from = nameStart;
        continue;
      }
      content += text.slice(pos, open);
      const body = skipWhitespace(text, nameEnd + 1);
      const args = argumentsAt(text, body, final);
      if (args.end === null) {
        // Cut short (or still being written): the arguments written so far, none when cut before them.
        calls.push({ name, arguments: args.text });
        break;
      }
      calls.push({ name, arguments: args.text });
      pos = skipWhitespace(text, args.end);
      if (text.startsWith(FUNCTION_CLOSE, pos)) pos = skipWhitespace(text, pos + FUNCTION_CLOSE.length);
      else if (!final && FUNCTION_CLOSE.startsWith(text.slice(pos))) break;
      from = pos;
    }
    return { content, calls };
  },
};

// ---------------------------------------------------------------------------------------------
// v3.2

const BLOCK = '>>>';
const TEXT_RECIPIENT = 'all';
const RECIPIENT = /^[A-Za-z0-9_.:-]*/;

type Recipient = { readonly name: string; readonly bodyStart: number } | 'undecided' | null;

/** The recipient line `name\n` at `at` (just past a `>>>`): any name, ended by a newline. */
function recipientAt(text: string, at: number, final: boolean): Recipient {
  const name = RECIPIENT.exec(text.slice(at, at + 256))![0];
  const end = at + name.length;
  if (end >= text.length) return final ? null : 'undecided';
  return name.length > 0 && text[end] === '\n' ? { name, bodyStart: end + 1 } : null;
}

/**
 * The first line of the output as the recipient the prompt's `>>>` asked for: `all` or one of
 * the tools (any name when the tools are not known). Null: the output does not start with one.
 */
function firstRecipient(text: string, final: boolean, tools: readonly ToolSpec[]): Recipient {
  const newline = text.indexOf('\n');
  const line = newline < 0 ? text : text.slice(0, newline);
  const names = tools.length > 0 ? [TEXT_RECIPIENT, ...tools.map((t) => t.name)] : null;
  const fits = (whole: boolean) =>
    names === null
      ? RECIPIENT.exec(line)![0].length === line.length && (!whole || line.length > 0)
      : names.some((name) => (whole ? name === line : name.startsWith(line)));
  if (newline < 0) return !final && fits(false) ? 'undecided' : null;
  return fits(true) ? { name: line, bodyStart: newline + 1 } : null;
}

/** The next `>>>` block at or after `from`: where its marker is and its recipient. */
function nextBlock(text: string, from: number, final: boolean): { at: number; recipient: NonNullable<Recipient> } | null {
  for (let at = text.indexOf(BLOCK, from); at >= 0; at = text.indexOf(BLOCK, at + 1)) {
    const recipient = recipientAt(text, at + BLOCK.length, final);
    if (recipient !== null) return { at, recipient };
  }
  return null;
}

function v32Call(tool: ToolSpec): TextGrammar {
  return tg.seq(tg.literal(`${BLOCK}${tool.name}\n`), tg.json(tool.parameters));
}

export const functionaryV32: ToolCallFormat = {
  id: 'functionary-v3.2',
  matches: (template) => template.includes(`${BLOCK}${TEXT_RECIPIENT}`) || template.includes(`${BLOCK}\${recipient}`),
  triggers: [BLOCK],
  markers: [],
  promptOpening: BLOCK,

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    return callRun(tg.alt(...tools.map(v32Call)), tg.seq(), count);
  },

  parse(text: string, { final, tools }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    // The block being read: its recipient and where its body starts; null: text outside blocks.
    let block: { name: string; bodyStart: number } | null = null;
    let pos = 0;
    if (!text.startsWith(BLOCK)) {
      const first = firstRecipient(text, final, tools ?? []);
      if (first === 'undecided') return { content, calls };
      block = first;
    }
    for (;;) {
      if (block !== null && block.name !== TEXT_RECIPIENT) {
        // A call: its JSON arguments, then (after any text) the next block.
        const body = skipWhitespace(text, block.bodyStart);
        const args = argumentsAt(text, body, final);
        if (!args.json) {
          // Not JSON: the body as written, up to the next block.
          const next = nextBlock(text, body, final);
          let end = next ? next.at : text.length;
          if (!next && !final) end -= heldBack(text.slice(body), [BLOCK]);
          // A block that ended without a body had no arguments; one cut before its body has none written.
          calls.push({ name: block.name, arguments: text.slice(body, end).trimEnd() || (next ? '{}' : '') });
          if (!next || next.recipient === 'undecided') break;
          block = next.recipient;
          continue;
        }
        calls.push({ name: block.name, arguments: args.text });
        if (args.end === null) break;
        pos = skipWhitespace(text, args.end);
        block = null;
        continue;
      }
      // Text: the body of an `all` block, or text after a call's arguments.
      const start = block === null ? pos : block.bodyStart;
      const next = nextBlock(text, start, final);
      if (next === null) {
        const tail = text.slice(start);
        content += final ? tail : tail.slice(0, tail.length - heldBack(tail, [BLOCK]));
        break;
      }
      content += text.slice(start, next.at);
      if (next.recipient === 'undecided') break;
      block = next.recipient;
    }
    return { content, calls };
  },
};
