// Chat templates rendered as Hugging Face transformers renders them with Python's jinja2 (sandboxed,
// trim_blocks + lstrip_blocks, loop controls, `{% generation %}` blocks, its own `tojson`,
// `raise_exception`, `strftime_now`), on top of @huggingface/jinja. Where that library's semantics
// differ from jinja2's on things chat templates use, ./jinja/interpreter.ts gives jinja2's behaviour
// through the library's public `Interpreter.evaluate`. docs/chat-templates.md has the details.
import { DomainError } from '../core/errors.js';
import { Template } from '@huggingface/jinja';
import { Environment, type SyntaxNode } from './jinja/runtime.js';
import { collectPrintedExpressions, referencesVariable, rewriteGenerationBlocks } from './jinja/source.js';
import { templateGlobals } from './jinja/globals.js';
import { Jinja2CompatibleInterpreter } from './jinja/interpreter.js';

export interface ChatToolCall {
  id?: string;
  type: 'function';
  function: { name: string; arguments: unknown };
}

export interface ChatMessage {
  role: string;
  content?: string | null;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  name?: string;
  [key: string]: unknown;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: unknown };
}

export interface RenderInput {
  messages: ChatMessage[];
  /** Absent: the template sees `tools` as none, as transformers passes it. */
  tools?: ToolDefinition[];
  addGenerationPrompt: boolean;
  /** Extra template variables (documents, enable_thinking, ...); they win over the standard ones. */
  extra?: Record<string, unknown>;
  /** Clock for `strftime_now`; the current time when absent. */
  now?: Date;
}

/** A template that cannot be compiled or that failed while rendering (including `raise_exception`). */
export class TemplateError extends DomainError {
  override name = 'TemplateError';

  constructor(message: string) {
    super('template', message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ChatTemplate {
  readonly source: string;
  /** True when the source refers to a variable named `tools`. */
  readonly readsTools: boolean;
  private readonly program: SyntaxNode;
  private readonly printedExpressions = new WeakSet<SyntaxNode>();

  private constructor(
    source: string,
    template: Template,
    private readonly tokens: { bosToken: string; eosToken: string },
  ) {
    this.source = source;
    this.program = template.parsed as SyntaxNode;
    collectPrintedExpressions(this.program.body, this.printedExpressions);
    this.readsTools = referencesVariable(source, 'tools');
  }

  /** Throws TemplateError when the source does not parse. */
  static compile(source: string, tokens: { bosToken: string; eosToken: string }): ChatTemplate {
    let template: Template;
    try {
      template = new Template(rewriteGenerationBlocks(source));
    } catch (error) {
      throw new TemplateError(`cannot parse the chat template: ${messageOf(error)}`);
    }
    return new ChatTemplate(source, template, tokens);
  }

  /** Throws TemplateError; for `raise_exception(msg)` its message is exactly `msg`. */
  render(input: RenderInput): string {
    try {
      const interpreter = new Jinja2CompatibleInterpreter(this.environmentFor(input), this.printedExpressions);
      return interpreter.run(this.program).value as string;
    } catch (error) {
      throw new TemplateError(messageOf(error));
    }
  }

  private environmentFor(input: RenderInput): Environment {
    const variables: Record<string, unknown> = {
      ...templateGlobals(input.now),
      // transformers passes tools and documents as None when the caller gives none.
      messages: input.messages,
      tools: input.tools ?? null,
      documents: null,
      add_generation_prompt: input.addGenerationPrompt,
      bos_token: this.tokens.bosToken,
      eos_token: this.tokens.eosToken,
      ...input.extra,
    };
    const environment = new Environment();
    for (const [name, value] of Object.entries(variables)) {
      // A render variable shadows a built-in global (a `namespace` template kwarg), as in Jinja2.
      environment.variables.delete(name);
      environment.set(name, value);
    }
    return environment;
  }
}
