// A format's parse with what every format shares: a reasoning section at the start is content and
// never holds calls, and whitespace around calls is not content.
import type { ParsedOutput, ToolCallFormat, ToolSpec } from './format.js';
import { heldBack, skipWhitespace } from './json-scan.js';

export interface OutputOptions {
  readonly final: boolean;
  /** The prompt ends inside the format's reasoning section (the output continues it). */
  readonly inReasoning?: boolean;
  readonly tools?: readonly ToolSpec[];
}

/**
 * Where the reasoning section at the start of `text` ends (0: there is none), 'open' while it goes
 * on, 'undecided' while the text could still turn out to open one.
 */
function reasoningEnd(format: ToolCallFormat, text: string, options: OutputOptions): number | 'open' | 'undecided' {
  const reasoning = format.reasoning;
  if (!reasoning) return 0;
  let from = 0;
  if (!options.inReasoning) {
    const start = skipWhitespace(text, 0);
    const rest = text.slice(start);
    if (!rest.startsWith(reasoning.start)) return !options.final && reasoning.start.startsWith(rest) ? 'undecided' : 0;
    from = start + reasoning.start.length;
  }
  const end = text.indexOf(reasoning.end, from);
  return end < 0 ? 'open' : end + reasoning.end.length;
}

export function parseOutput(format: ToolCallFormat, text: string, options: OutputOptions): ParsedOutput {
  const split = reasoningEnd(format, text, options);
  if (split === 'undecided') return { content: '', calls: [] };
  if (split === 'open') {
    // Still reasoning: all of it is content so far.
    const held = options.final ? 0 : heldBack(text, [format.reasoning!.end]);
    return { content: text.slice(0, text.length - held), calls: [] };
  }
  const parsed = format.parse(text.slice(split), { final: options.final, inReasoning: false, tools: options.tools ?? [] });
  let content = text.slice(0, split) + parsed.content;
  // Whitespace at the end may turn out to lead to a call: held back until text follows it, and
  // dropped when calls were made.
  if (!options.final || parsed.calls.length > 0) content = content.trimEnd();
  return { content, calls: parsed.calls };
}
