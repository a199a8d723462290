// The tool-call formats this server knows, in the order a template is matched against them (more
// specific first: Qwen3-Coder's template also holds Hermes' `<tool_call>` tag, for one).
import type { ToolCallFormat } from './format.js';
import { commandRFormats } from './formats/command-r.js';
import { deepseekFormats } from './formats/deepseek.js';
import { functionaryV31, functionaryV32 } from './formats/functionary.js';
import { generic } from './formats/generic.js';
import { glm } from './formats/glm.js';
import { gptOss } from './formats/gpt-oss.js';
import { granite } from './formats/granite.js';
import { hermes } from './formats/hermes.js';
import { kimi } from './formats/kimi.js';
import { llama3 } from './formats/llama3.js';
import { MISTRAL_FORMATS } from './formats/mistral.js';
import { qwen3Coder } from './formats/qwen3-coder.js';

export const TOOL_FORMATS: readonly ToolCallFormat[] = [
  qwen3Coder,
  glm,
  kimi,
  ...deepseekFormats,
  gptOss,
  granite,
  ...MISTRAL_FORMATS,
  ...commandRFormats,
  functionaryV32,
  functionaryV31,
  hermes,
  llama3,
];

/**
 * The format a chat template's model writes calls in, known by the template's text (which renders
 * past calls in it, and usually tells the model to write them so). A template that matches no
 * format gets the generic JSON one; when it does not read `tools` either, the tools are described in
 * the prompt (TGI's injected tool prompt).
 */
export function toolFormatOf(template: string): ToolCallFormat {
  return TOOL_FORMATS.find((format) => format.matches(template)) ?? generic;
}
