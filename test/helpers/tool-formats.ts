// Checking a tool-call format without a model: the grammar's language (does it accept a text?),
// and the parser fed a text in small pieces (do the streamed deltas add up to the final parse?).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEAD } from '../../src/grammar/automaton.js';
import { textGrammarAutomaton, type TextGrammar } from '../../src/grammar/text-grammar.js';
import type { ParsedOutput, ToolCallFormat, ToolSpec } from '../../src/chat/tools/format.js';
import type { ToolDefinition } from '../../src/chat/template.js';
import { parseOutput } from '../../src/chat/tools/output.js';
import { ToolCallStream } from '../../src/chat/tools/stream.js';
import { SHARED } from './models.js';

export function chatTemplate(name: string): string {
  return readFileSync(join(SHARED, 'chat-templates', `${name}.jinja`), 'utf8');
}

/** The names of the shared chat templates (their files without `.jinja`), sorted. */
export function templateNames(): string[] {
  return readdirSync(join(SHARED, 'chat-templates'))
    .filter((file) => file.endsWith('.jinja'))
    .map((file) => file.slice(0, -'.jinja'.length))
    .sort();
}

/** The shared chat templates that `format` recognises, sorted. */
export function templatesMatching(format: Pick<ToolCallFormat, 'matches'>): string[] {
  return templateNames().filter((name) => format.matches(chatTemplate(name)));
}

/** A tool as a chat request lists it. */
export function toolDefinition(tool: ToolSpec): ToolDefinition {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/** Whether the grammar's language holds `text` whole. */
export function grammarAccepts(grammar: TextGrammar, text: string): boolean {
  const automaton = textGrammarAutomaton(grammar);
  let state = automaton.start;
  for (const byte of new TextEncoder().encode(text)) {
    state = automaton.next(state, byte);
    if (state === DEAD) return false;
  }
  return automaton.accepting(state);
}

/** `text` cut into pieces of `size` characters (code points), as a model's tokens might be. */
export function pieces(text: string, size: number): string[] {
  const chars = [...text];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

export interface StreamedOutput {
  content: string;
  calls: { id: string; name: string; arguments: string }[];
}

/** The text fed to a ToolCallStream piece by piece: the deltas reassembled, and the final parse. */
export interface ParseSetup {
  inReasoning?: boolean;
  tools?: ToolSpec[];
}

export function streamed(
  format: ToolCallFormat,
  parts: string[],
  setup: ParseSetup = {},
): { streamed: StreamedOutput; final: ParsedOutput } {
  let next = 0;
  const stream = new ToolCallStream(format, () => `call_${next++}`, setup);
  const out: StreamedOutput = { content: '', calls: [] };
  const apply = (deltas: ReturnType<ToolCallStream['push']>) => {
    for (const delta of deltas) {
      if (delta.kind === 'content') out.content += delta.text;
      else if (delta.kind === 'call') {
        assert.equal(delta.index, out.calls.length, 'calls start in order');
        out.calls.push({ id: delta.id, name: delta.name, arguments: '' });
      } else out.calls[delta.index].arguments += delta.text;
    }
  };
  for (const part of parts) apply(stream.push(part));
  const last = stream.finish();
  apply(last.deltas);
  return { streamed: out, final: last.output };
}

/**
 * The parse of `text` whole, checked against the same text streamed in pieces of 1, 2, 3 and 7
 * characters: the deltas must add up to exactly the whole parse.
 */
export function parseChecked(format: ToolCallFormat, text: string, setup: ParseSetup = { tools: [WEATHER, TIME] }): ParsedOutput {
  const whole = parseOutput(format, text, { ...setup, final: true });
  for (const size of [1, 2, 3, 7]) {
    const { streamed: out } = streamed(format, pieces(text, size), setup);
    assert.equal(out.content, whole.content, `content streamed in pieces of ${size}`);
    assert.deepEqual(
      out.calls.map(({ name, arguments: a }) => ({ name, arguments: a })),
      whole.calls.map(({ name, arguments: a }) => ({ name, arguments: a })),
      `calls streamed in pieces of ${size}`,
    );
  }
  return whole;
}

export const WEATHER: ToolSpec = {
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Tokyo', 'Lima'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    required: ['city', 'days'],
    additionalProperties: false,
  },
};

export const TIME: ToolSpec = {
  name: 'get_time',
  description: 'Current time in a timezone',
  parameters: {
    type: 'object',
    properties: { timezone: { type: 'string', maxLength: 12 } },
    required: ['timezone'],
    additionalProperties: false,
  },
};

/** A text cut inside a call: the call it gives (name, arguments written so far), after the calls before it. */
export type CutCall = [text: string, name: string, args: string, before?: { name: string; arguments: string }[]];

/**
 * Texts cut by the length limit. A cut call keeps the arguments the model wrote: none ('') before
 * they began, unclosed JSON (that does not parse) inside them; never an invented `{}` or a closed
 * object. A marker with no readable call after it is content, as written. Each text is checked
 * whole and streamed (parseChecked).
 */
export function checkCutCalls(format: ToolCallFormat, calls: CutCall[], content: string[] = [], setup?: ParseSetup): void {
  for (const [text, name, args, before = []] of calls) {
    const parsed = parseChecked(format, text, setup);
    assert.deepEqual(
      parsed.calls.map(({ name, arguments: a }) => ({ name, arguments: a })),
      [...before, { name, arguments: args }],
      JSON.stringify(text),
    );
    if (args !== '') assert.throws(() => JSON.parse(args), `${JSON.stringify(text)}: the arguments ${args} parse`);
  }
  for (const text of content) assert.deepEqual(parseChecked(format, text, setup), { content: text, calls: [] }, JSON.stringify(text));
}
