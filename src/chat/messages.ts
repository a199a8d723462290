// OpenAI chat messages -> the message shapes chat templates were trained with (Hugging Face
// transformers' standard): string content, assistant tool_calls with arguments as an object, tool
// results as role "tool" with tool_call_id.
import type { ChatMessageJson, ToolJson } from '../api/openai.js';
import type { ChatMessage, ChatToolCall, ToolDefinition } from './template.js';
import { parseNestedJson, tooDeepMessage } from '../api/json-body.js';
import { DomainError } from '../core/errors.js';

/** A message the server cannot turn into template input; `param` is the JSON path of the field. */
export class MessageError extends DomainError {
  declare readonly param: string;

  constructor(param: string, message: string) {
    super('validation', message, param);
  }
}

function textOf(content: ChatMessageJson['content'], path: string): string | null {
  if (content == null) return null;
  if (typeof content === 'string') return content;
  let text = '';
  content.forEach((part, i) => {
    if (part.type === 'text' && typeof part.text === 'string') text += part.text;
    else if (part.type === 'text') throw new MessageError(`${path}.${i}.text`, `content part ${i} of type "text" needs a string \`text\``);
    else if (part.type === 'image_url' || part.type === 'input_image' || part.type === 'image') {
      throw new MessageError(`${path}.${i}`, 'image content is not supported: the served model takes text only');
    } else throw new MessageError(`${path}.${i}.type`, `content part type "${part.type}" is not supported (use "text")`);
  });
  return text;
}

/** OpenAI clients send arguments as a JSON string; templates expect the object. */
function argumentsObject(value: unknown, path: string): unknown {
  if (typeof value !== 'string') return value ?? {};
  let parsed: ReturnType<typeof parseNestedJson>;
  try {
    parsed = parseNestedJson(value);
  } catch {
    return value;
  }
  if ('tooDeep' in parsed) throw new MessageError(path, tooDeepMessage(`\`${path}\``));
  return parsed.value !== null && typeof parsed.value === 'object' ? parsed.value : value;
}

export interface TemplateMessageOptions {
  /** Arguments as JSON text, for templates that join them to strings (older ones do). */
  argumentsAsText?: boolean;
}

function argumentsText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? {});
}

export function templateMessages(messages: ChatMessageJson[], options: TemplateMessageOptions = {}): ChatMessage[] {
  return messages.map((message, i) => {
    const { content, tool_calls, tool_call_id, name, ...rest } = message;
    const out: ChatMessage = { ...rest, role: message.role, content: textOf(content, `messages.${i}.content`) ?? '' };
    if (name != null) out.name = name;
    if (tool_call_id != null) out.tool_call_id = tool_call_id;
    if (tool_calls != null && tool_calls.length > 0) {
      out.tool_calls = tool_calls.map((call, j): ChatToolCall => ({
        ...(call.id != null ? { id: call.id } : {}),
        type: 'function',
        function: {
          name: call.function.name,
          arguments: options.argumentsAsText
            ? argumentsText(call.function.arguments)
            : argumentsObject(call.function.arguments, `messages.${i}.tool_calls.${j}.function.arguments`),
        },
      }));
    }
    return out;
  });
}

export function templateTools(tools: ToolJson[]): ToolDefinition[] {
  return tools.map((tool) => ({
    type: 'function',
    function: {
      name: tool.function.name,
      ...(tool.function.description != null ? { description: tool.function.description } : {}),
      parameters: tool.function.parameters ?? { type: 'object', properties: {} },
    },
  }));
}
