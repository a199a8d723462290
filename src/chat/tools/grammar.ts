// The constraint a tool choice puts on a chat generation, in the model's own format: a named tool
// or `required` from the first token, `auto` from the moment a call starts (free text before it
// may not contain the format's triggers, so a started call is always a whole call).
import { tg, type TextGrammar } from '../../grammar/text-grammar.js';
import type { ToolCallFormat, ToolSpec } from './format.js';

export type ToolMode =
  /** The model sees the tools but may not call them: its text may not start a call. */
  { readonly kind: 'none' } | { readonly kind: 'auto' } | { readonly kind: 'required' } | { readonly kind: 'named'; readonly name: string };

export interface ToolGrammarOptions {
  /** Several calls allowed (`parallel_tool_calls` not false); a named choice is one call. */
  readonly parallel: boolean;
  /** The prompt ends inside the format's reasoning section. */
  readonly inReasoning?: boolean;
  /** With `auto` or `none`: what a text answer must be instead of free text (a response_format). */
  readonly answer?: TextGrammar;
}

/**
 * The reasoning the output starts with: the rest of it when the prompt opened it; with `auto`,
 * optionally a whole section; with a forced call, none (the call starts at the first token).
 */
function reasoningPart(format: ToolCallFormat, inReasoning: boolean, forced: boolean): TextGrammar {
  const reasoning = format.reasoning;
  if (!reasoning) return tg.seq();
  const body = tg.seq(tg.text(reasoning.end), tg.literal(reasoning.end), tg.regex('\\s{0,2}'));
  if (inReasoning) return body;
  return forced ? tg.seq() : tg.optional(tg.seq(tg.literal(reasoning.start), body));
}

export function toolGrammar(format: ToolCallFormat, tools: readonly ToolSpec[], mode: ToolMode, options: ToolGrammarOptions): TextGrammar {
  const reasoning = reasoningPart(format, options.inReasoning ?? false, mode.kind === 'named' || mode.kind === 'required');
  const free = tg.textOpening(format.triggers, format.openingTriggers ?? []);
  if (mode.kind === 'none') return tg.seq(reasoning, options.answer ?? free);
  if (mode.kind === 'named') {
    const tool = tools.filter((t) => t.name === mode.name);
    return tg.seq(reasoning, format.callsGrammar(tool, { min: 1, max: 1 }));
  }
  const calls = format.callsGrammar(tools, { min: 1, max: options.parallel ? null : 1 });
  if (mode.kind === 'required') return tg.seq(reasoning, calls);
  // A call that only opens the answer is one alternative to text; one that may follow text, its end.
  const answer = options.answer ?? (format.triggers.length > 0 ? tg.seq(free, tg.optional(calls)) : tg.alt(free, calls));
  return tg.seq(reasoning, options.answer ? tg.alt(answer, calls) : answer);
}
