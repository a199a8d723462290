// A chat request -> the prompt text: messages in the template's shapes, tools for the template (or
// described in the last message when the template has no tool support), continuation of a final
// assistant message, and the stop strings a fallback template needs.
import type { ChatMessageJson, ChatRequest, ToolJson } from '../api/openai.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { MessageError, templateMessages, templateTools, type TemplateMessageOptions } from './messages.js';
import { bigintsAsNumbers } from '../api/json-body.js';
import { ChatTemplate, TemplateError } from './template.js';
import type { TemplateSource } from './template-source.js';
import type { ToolCallFormat } from './tools/format.js';
import { toolFormatOf } from './tools/registry.js';
import { generic } from './tools/formats/generic.js';

const DEFAULT_TOOL_PROMPT =
  '\nGiven the functions available, please respond with a JSON for a function call with its proper arguments that best answers the given prompt. Respond in the format {name: function name, parameters: dictionary of argument name and its value}.Do not use variables.\n';

const CHATML_END = '<|im_end|>';

export interface ChatPromptInput {
  messages: ChatMessageJson[];
  tools?: ToolJson[] | null;
  tool_choice?: ChatRequest['tool_choice'];
  tool_prompt?: string | null;
  chat_template_kwargs?: Record<string, unknown> | null;
}

export class ChatPrompter {
  private format: ToolCallFormat | undefined;

  private constructor(
    /** The compiled template, or why it does not compile (every chat request then fails with it). */
    readonly template: ChatTemplate | TemplateError,
    readonly source: TemplateSource,
    /** Stop strings every chat generation gets (the fallback's end-of-turn marker when it is not a token). */
    readonly stop: string[],
    /** Where an image part goes, the text the image encoder looks for; absent: the model takes text only. */
    readonly imageMarker: string | undefined,
  ) {}

  static create(source: TemplateSource, tokenizer: Tokenizer, imageMarker?: string): ChatPrompter {
    const bosToken = source.bosToken ?? tokenizer.tokenText(tokenizer.bosId);
    const eosToken = source.eosToken ?? tokenizer.tokenText(tokenizer.eosId);
    let template: ChatTemplate | TemplateError;
    try {
      template = ChatTemplate.compile(source.source, { bosToken, eosToken });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      template = error;
    }
    return new ChatPrompter(
      template,
      source,
      source.fallback && !isEndOfGenerationToken(tokenizer, CHATML_END) ? [CHATML_END] : [],
      imageMarker,
    );
  }

  /** The format the model writes tool calls in (by its template). */
  get toolFormat(): ToolCallFormat {
    this.format ??= this.source.fallback ? generic : toolFormatOf(this.source.source);
    return this.format;
  }

  get compileError(): TemplateError | undefined {
    return this.template instanceof TemplateError ? this.template : undefined;
  }

  /** Throws MessageError for input the template cannot take, TemplateError when rendering fails. */
  render(request: ChatPromptInput): string {
    try {
      return this.renderWith(request, {});
    } catch (error) {
      // Templates written for arguments as text join them to strings: given objects, they fail so.
      const joinsArguments = error instanceof TemplateError && /concatenate str \(not "dict"\)/.test(error.message);
      if (!joinsArguments || !request.messages.some((m) => m.tool_calls?.length)) throw error;
      return this.renderWith(request, { argumentsAsText: true });
    }
  }

  private renderWith(request: ChatPromptInput, options: TemplateMessageOptions): string {
    // Templates know JSON numbers only: an integer beyond 2^53 reaches them as the nearest number.
    const input = bigintsAsNumbers(request);
    const template = this.template;
    if (template instanceof TemplateError) throw template;
    if (input.messages.length === 0) throw new MessageError('messages', '`messages` must contain at least one message');
    const messages = templateMessages(input.messages, { ...options, imageMarker: this.imageMarker });
    const tools = this.toolsToUse(input);
    let templateToolList = undefined;
    if (tools) {
      if (template.readsTools) {
        templateToolList = templateTools(tools);
        // The template describes the tools in the model's own terms; an explicit prompt is added to them.
        const last = messages[messages.length - 1];
        if (input.tool_prompt && typeof last.content === 'string') last.content = `${last.content}\n---\n${input.tool_prompt}`;
      } else {
        const last = messages[messages.length - 1];
        const description = JSON.stringify(templateTools(tools));
        last.content = `${last.content ?? ''}\n---\n${description}\n${input.tool_prompt || DEFAULT_TOOL_PROMPT}`;
      }
    }
    const last = messages[messages.length - 1];
    const continuing = last.role === 'assistant' && typeof last.content === 'string' && last.content.length > 0;
    const text = template.render({
      messages,
      tools: templateToolList,
      addGenerationPrompt: !continuing,
      extra: input.chat_template_kwargs ?? undefined,
    });
    if (!continuing) return text;
    // The model continues the final assistant message instead of starting a new turn.
    const at = text.lastIndexOf(last.content as string);
    return at < 0 ? text : text.slice(0, at + (last.content as string).length).trimEnd();
  }

  /** The tools the model is shown: all of them, whatever the choice (which the grammar enforces), as OpenAI does. */
  private toolsToUse(input: ChatPromptInput): ToolJson[] | undefined {
    return input.tools && input.tools.length > 0 ? input.tools : undefined;
  }
}

function isEndOfGenerationToken(tokenizer: Tokenizer, text: string): boolean {
  const ids = tokenizer.tokenize(text, false);
  return ids.length === 1 && tokenizer.isEndOfGeneration(ids[0]);
}
