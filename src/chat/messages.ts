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

/** An image part of a chat message: where it is and the URL (http(s) or data URI) it gives. */
export interface ImagePart {
  url: string;
  /** The field, as `messages[0].content[1].image_url`. */
  param: string;
}

type ContentPart = Exclude<ChatMessageJson['content'], string | null | undefined>[number];

/** A part that carries an image: OpenAI's `image_url`, or the Responses API's `input_image`. */
export function isImagePart(part: { type: string }): boolean {
  return part.type === 'image_url' || part.type === 'input_image';
}

/** The URL an image part gives: OpenAI's `image_url` ({url} or a string) or the Responses API's `input_image`. */
function imagePartUrl(part: ContentPart, param: string): string {
  const field = (part as { image_url?: unknown }).image_url;
  const url =
    typeof field === 'string' ? field : field !== null && typeof field === 'object' ? (field as { url?: unknown }).url : undefined;
  if (typeof url !== 'string' || url.length === 0)
    throw new MessageError(param, `${param}: an image part needs \`image_url\` with a \`url\` (an http(s) URL or a data URI)`);
  return url;
}

/** The image parts of `messages`, in the order the prompt holds them. */
export function imageParts(messages: readonly ChatMessageJson[]): ImagePart[] {
  const parts: ImagePart[] = [];
  messages.forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, j) => {
      if (!isImagePart(part)) return;
      const param = `messages[${i}].content[${j}].image_url`;
      parts.push({ url: imagePartUrl(part, param), param });
    });
  });
  return parts;
}

function textOf(content: ChatMessageJson['content'], path: string, imageMarker: string | undefined): string | null {
  if (content == null) return null;
  if (typeof content === 'string') return content;
  let text = '';
  content.forEach((part, i) => {
    if (part.type === 'text' && typeof part.text === 'string') text += part.text;
    else if (part.type === 'text') throw new MessageError(`${path}.${i}.text`, `content part ${i} of type "text" needs a string \`text\``);
    else if (isImagePart(part) && imageMarker !== undefined) text += imageMarker;
    else if (isImagePart(part) || part.type === 'image') {
      if (imageMarker !== undefined)
        throw new MessageError(
          `${path}.${i}.type`,
          'image parts are of type "image_url": {"type": "image_url", "image_url": {"url": ...}}',
        );
      throw new MessageError(
        `${path}.${i}`,
        'image content is not supported: the served model takes text only (serve a vision model with its projector, --mmproj)',
      );
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
  /** Image parts become this text (the image encoder's marker); absent: an image part is an error. */
  imageMarker?: string;
}

function argumentsText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? {});
}

export function templateMessages(messages: ChatMessageJson[], options: TemplateMessageOptions = {}): ChatMessage[] {
  return messages.map((message, i) => {
    const { content, tool_calls, tool_call_id, name, ...rest } = message;
    const out: ChatMessage = { ...rest, role: message.role, content: textOf(content, `messages.${i}.content`, options.imageMarker) ?? '' };
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
