// `tools`, `tool_choice` and `parallel_tool_calls` of a chat request -> the tools a generation may
// call and how: OpenAI's rules, plus TGI's bare-string form of a named choice.
import type { ChatRequest } from '../api/openai.js';
import type { ToolSpec } from '../chat/tools/format.js';
import type { ToolMode } from '../chat/tools/grammar.js';
import { closedArguments, strictSchema } from './closed-objects.js';
import { OpenAiFieldError } from './openai.js';

export interface ToolChoice {
  readonly tools: readonly ToolSpec[];
  readonly mode: ToolMode;
  readonly parallel: boolean;
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_TOOLS = 512;

function toolSpecs(tools: NonNullable<ChatRequest['tools']>): ToolSpec[] {
  if (tools.length > MAX_TOOLS) throw new OpenAiFieldError('tools', `\`tools\` holds at most ${MAX_TOOLS} tools. Given: ${tools.length}`);
  const seen = new Set<string>();
  return tools.map((tool, i) => {
    const { name, description, parameters } = tool.function;
    if (!NAME.test(name))
      throw new OpenAiFieldError(
        `tools[${i}].function.name`,
        `\`tools[${i}].function.name\` must be 1 to 128 letters, digits, "_", ".", ":" or "-". Given: ${JSON.stringify(name)}`,
      );
    if (seen.has(name)) throw new OpenAiFieldError(`tools[${i}].function.name`, `\`tools\` has two tools named "${name}"`);
    seen.add(name);
    if (parameters != null && parameters.type !== undefined && parameters.type !== 'object') {
      throw new OpenAiFieldError(
        `tools[${i}].function.parameters`,
        `\`tools[${i}].function.parameters\` must be a JSON Schema of an object (type "object")`,
      );
    }
    // The arguments object is closed to undeclared keys unless it says otherwise (strict: every object).
    const schema = { type: 'object', ...(parameters ?? {}) };
    const strict = tool.function.strict === true;
    return {
      name,
      ...(description != null ? { description } : {}),
      parameters: strict ? (strictSchema(schema) as Record<string, unknown>) : closedArguments(schema),
    };
  });
}

/** The tool choice of a request, or undefined when it has no tools. */
export function resolveToolChoice(body: Pick<ChatRequest, 'tools' | 'tool_choice' | 'parallel_tool_calls'>): ToolChoice | undefined {
  const choice = body.tool_choice ?? 'auto';
  const name = typeof choice === 'string' ? (['auto', 'none', 'required'].includes(choice) ? undefined : choice) : choice.function.name;
  if (!body.tools || body.tools.length === 0) {
    if (choice === 'required' || name !== undefined)
      throw new OpenAiFieldError('tool_choice', '`tool_choice` names or requires a tool, but `tools` is empty');
    return undefined;
  }
  const tools = toolSpecs(body.tools);
  const parallel = body.parallel_tool_calls !== false;
  if (choice === 'none') return { tools, mode: { kind: 'none' }, parallel };
  if (name !== undefined) {
    if (!tools.some((tool) => tool.name === name)) {
      throw new OpenAiFieldError(
        'tool_choice',
        `\`tool_choice\` names the tool "${name}", which is not in \`tools\` (${tools.map((t) => `"${t.name}"`).join(', ')})`,
      );
    }
    return { tools, mode: { kind: 'named', name }, parallel };
  }
  return { tools, mode: choice === 'required' ? { kind: 'required' } : { kind: 'auto' }, parallel };
}
