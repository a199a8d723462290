// For templates that know no tool format: TGI's call object, which the injected tool prompt leads
// the model to write and the grammar of a forced call makes it write:
//   {"function": {"_name": "get_weather", "city": "Paris", "days": 3}}
// The parser also reads `{"name": ..., "arguments" | "parameters": {...}}`, what the tool prompt
// describes in words. Parallel calls are objects one per line.
import { tg, type TextGrammar } from '../../../grammar/text-grammar.js';
import type { CallCount, ParsedCall, ParsedOutput, ParseOptions, ToolCallFormat, ToolSpec } from '../format.js';
import { callRun } from '../grammar-parts.js';
import { scanObject, skipWhitespace, stringMember, type ObjectMember, type ObjectScan } from '../json-scan.js';
import { jsonCallAt } from './hermes.js';

const OPEN = '{"function": ';

/** The tool's arguments schema with `_name` as its first property, held to the tool's name. */
function namedArguments(tool: ToolSpec): Record<string, unknown> {
  const parameters = tool.parameters;
  const properties = (parameters.properties ?? {}) as Record<string, unknown>;
  const required = Array.isArray(parameters.required) ? parameters.required : [];
  return { ...parameters, type: 'object', properties: { _name: { const: tool.name }, ...properties }, required: ['_name', ...required] };
}

/**
 * The arguments of a call object: its members without `_name`. With `_name` first (as the grammar
 * writes it) they are the text the model wrote after it, behind the object's `{`: closed when the
 * object is, and when it is cut short everything written (JSON that may not parse), never closed
 * here; nothing until an argument begins. Otherwise the complete members, joined.
 */
function argumentsText(text: string, inner: ObjectScan, name: ObjectMember, final: boolean): string {
  const others = inner.members.filter((m) => m !== name);
  if (inner.members[0] === name && !inner.invalid) {
    let start = skipWhitespace(text, name.valueEnd!);
    if (text[start] === ',') start = skipWhitespace(text, start + 1);
    if (inner.end !== null) return others.length === 0 ? '{}' : `{${text.slice(start, inner.end)}`;
    if (final) return start < text.length ? `{${text.slice(start)}` : '';
    const last = others.filter((m) => m.valueEnd !== null).at(-1);
    return last ? `{${text.slice(start, last.valueEnd!)}` : '';
  }
  const members = others
    .filter((m) => m.valueEnd !== null)
    .map((m) => `${JSON.stringify(m.key)}: ${text.slice(m.valueStart, m.valueEnd!)}`);
  if (inner.end !== null) return `{${members.join(', ')}}`;
  return members.length > 0 ? `{${members.join(', ')}` : '';
}

/**
 * `{"function": {"_name": ..., ...arguments}}` at `at`, in jsonCallAt's shape: the call with the
 * arguments without `_name`, where the object ends, and whether it cannot be such a call.
 */
function functionCallAt(text: string, at: number, final: boolean): { call?: ParsedCall; end: number | null; invalid: boolean } {
  // Scanned as text that may grow even when final: the members of a call cut short still count.
  const outer = scanObject(text, at, false);
  const first = outer.members[0];
  if (!first) return { end: outer.end, invalid: final || outer.invalid || outer.end !== null };
  if (first.key !== 'function') return { end: outer.end, invalid: true };
  const inner = scanObject(text, first.valueStart, false);
  const nameMember = inner.members.find((m) => m.key === '_name');
  const name = stringMember(text, nameMember);
  if (name === undefined) return { end: outer.end, invalid: final || inner.invalid || inner.end !== null };
  return { call: { name, arguments: argumentsText(text, inner, nameMember!, final) }, end: outer.end, invalid: false };
}

export const generic: ToolCallFormat = {
  id: 'generic-json',
  matches: () => true,
  triggers: [],
  openingTriggers: ['{"function"'],
  markers: [],

  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar {
    const call = (tool: ToolSpec) => tg.seq(tg.literal(OPEN), tg.json(namedArguments(tool)), tg.literal('}'));
    return callRun(tg.alt(...tools.map(call)), tg.literal('\n'), count);
  },

  parse(text: string, { final }: ParseOptions): ParsedOutput {
    let content = '';
    const calls: ParsedCall[] = [];
    let pos = 0;
    let from = 0;
    for (;;) {
      const open = text.indexOf('{', from);
      if (open < 0) {
        content += text.slice(pos);
        break;
      }
      const tgi = functionCallAt(text, open, final);
      const found = tgi.call || !tgi.invalid ? tgi : jsonCallAt(text, open, final);
      if (!found.call) {
        // An object that may still turn out to be a call holds back the text from its brace.
        if (!found.invalid && found.end === null && !final) {
          content += text.slice(pos, open);
          break;
        }
        from = open + 1;
        continue;
      }
      content += text.slice(pos, open);
      calls.push(found.call);
      if (found.end === null) break;
      pos = from = skipWhitespace(text, found.end);
    }
    return { content, calls };
  },
};
