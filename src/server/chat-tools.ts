// Tool calling on the chat route: the constraint a tool choice puts on the generation (in the
// model's own call format), the marker tokens whose text the parser must see, and the calls read
// back from the output as OpenAI `tool_calls`.
import { randomBytes } from 'node:crypto';
import type { ChatRequest, ToolCallJson } from '../api/openai.js';
import type { ToolCallFormat, ParsedOutput } from '../chat/tools/format.js';
import { toolGrammar } from '../chat/tools/grammar.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { GeneratedToken } from '../core/request.js';
import { specialTokensByText, type GrammarSpec } from '../grammar/grammars.js';
import { SchemaError } from '../grammar/json-schema/index.js';
import { tg, type TextGrammar } from '../grammar/text-grammar.js';
import { grammarSpecOf } from '../validation/grammar.js';
import { OpenAiFieldError } from '../validation/openai.js';
import { grammarOfResponseFormat } from '../validation/response-format.js';
import type { ToolChoice } from '../validation/tools.js';

export interface ToolSetup {
  readonly choice: ToolChoice;
  readonly format: ToolCallFormat;
  /** The prompt ends inside the format's reasoning section. */
  readonly inReasoning: boolean;
  /** Undefined when grammars are disabled (`auto` is then parsed, not constrained). */
  readonly grammar?: GrammarSpec;
  /** Special tokens of the format's markers, by id, with their text. */
  readonly markers: ReadonlyMap<number, string>;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A unique call id in OpenAI's shape: `call_` and 24 random letters and digits. */
export function newCallId(): string {
  const bytes = randomBytes(24);
  let id = 'call_';
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

function endsInReasoning(prompt: string, format: ToolCallFormat): boolean {
  const reasoning = format.reasoning;
  if (!reasoning) return false;
  const start = prompt.lastIndexOf(reasoning.start);
  return start >= 0 && prompt.indexOf(reasoning.end, start) < 0 && prompt.slice(start + reasoning.start.length).trim() === '';
}

const specialTexts = new WeakMap<Tokenizer, Map<string, number[]>>();

/** The special tokens whose text is one of `markers`. */
function markerTokens(tokenizer: Tokenizer, markers: readonly string[]): Map<number, string> {
  let byText = specialTexts.get(tokenizer);
  if (!byText) {
    byText = specialTokensByText(tokenizer);
    specialTexts.set(tokenizer, byText);
  }
  const out = new Map<number, string>();
  for (const marker of markers) for (const id of byText.get(marker) ?? []) out.set(id, marker);
  return out;
}

/** A response_format as the text grammar of a text answer beside calls. */
function answerGrammar(body: ChatRequest): TextGrammar | undefined {
  const native = grammarOfResponseFormat(body.response_format);
  if (!native) return undefined;
  const spec = grammarSpecOf(native);
  if (spec.type === 'regex') return tg.regex(spec.pattern);
  if (spec.type === 'json-schema') return tg.json(spec.schema);
  return undefined;
}

export interface ToolSetupOptions {
  readonly format: ToolCallFormat;
  readonly prompt: string;
  readonly tokenizer: Tokenizer;
  readonly disableGrammar: boolean;
  readonly compile: (spec: GrammarSpec) => Promise<GrammarSpec>;
}

export async function setUpTools(body: ChatRequest, choice: ToolChoice, options: ToolSetupOptions): Promise<ToolSetup> {
  const { format } = options;
  const inReasoning = endsInReasoning(options.prompt, format);
  const markers = markerTokens(options.tokenizer, format.markers);
  if (options.disableGrammar) {
    if (choice.mode.kind === 'named' || choice.mode.kind === 'required')
      throw new OpenAiFieldError(
        'tool_choice',
        `\`tool_choice\` "${choice.mode.kind === 'named' ? choice.mode.name : 'required'}" needs constrained decoding, which --disable-grammar-support turned off; use "auto"`,
      );
    return { choice, format, inReasoning, markers };
  }
  const answer = choice.mode.kind === 'auto' || choice.mode.kind === 'none' ? answerGrammar(body) : undefined;
  try {
    const grammar = toolGrammar(format, choice.tools, choice.mode, { parallel: choice.parallel, inReasoning, answer });
    const spec = await options.compile({ type: 'text', grammar, atoms: [...format.markers] });
    return { choice, format, inReasoning, markers, grammar: spec };
  } catch (error) {
    const message = error instanceof SchemaError ? error.detail : error instanceof Error ? error.message : String(error);
    throw new OpenAiFieldError('tools', `the tools' parameters cannot be enforced: ${message}`);
  }
}

/** The prompt a forced call is generated after: without the opening its grammar writes itself. */
export function promptForCalls(prompt: string, tools: ToolSetup): string {
  const opening = tools.format.promptOpening;
  const forced = tools.choice.mode.kind === 'named' || tools.choice.mode.kind === 'required';
  if (!opening || !tools.grammar || !forced || !prompt.endsWith(opening)) return prompt;
  return prompt.slice(0, prompt.length - opening.length);
}

/** A generated token's text as the parser reads it: marker tokens keep their text. */
export function toolText(token: GeneratedToken, markers: ReadonlyMap<number, string>): string {
  return token.special ? (markers.get(token.id) ?? '') : token.text;
}

export function toolCallsJson(output: ParsedOutput, ids: () => string): ToolCallJson[] {
  return output.calls.map((call) => ({ id: ids(), type: 'function', function: { name: call.name, arguments: call.arguments } }));
}
