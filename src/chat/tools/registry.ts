// The tool-call formats this server knows, in the order a template is matched against them (more
// specific first: Qwen3-Coder's template also holds Hermes' `<tool_call>` tag, for one).
import type { ToolCallFormat } from './format.js';
import { generic } from './formats/generic.js';
import { hermes } from './formats/hermes.js';

export const TOOL_FORMATS: readonly ToolCallFormat[] = [hermes];

/**
 * The format a chat template's model writes calls in. A template that does not read `tools` gets
 * the tools described in the prompt (TGI's injected tool prompt) and the generic JSON format.
 */
export function toolFormatOf(template: string, readsTools: boolean): ToolCallFormat {
  if (!readsTools) return generic;
  return TOOL_FORMATS.find((format) => format.matches(template)) ?? generic;
}
