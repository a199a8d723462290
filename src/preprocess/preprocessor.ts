// Tokenizing, chat templating and grammar compiling for the routes. Small inputs are handled in
// place (a round trip to another thread would cost more); large ones on the preprocessing thread,
// and grammars on a thread of their own, so that no request holds the HTTP event loop.
import type { ChatPromptInput, ChatPrompter } from '../chat/prompt.js';
import { isImagePart } from '../chat/messages.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { TextTokenizer } from '../validation/generate.js';
import { tokenSpansJson } from './token-spans.js';
import type { PreprocessWorker } from './worker-client.js';
import { GrammarCompiler } from './grammar-compiler.js';
import type { GrammarSpec } from '../grammar/grammars.js';
import type { VisionThread } from './vision.js';

/** Texts from this length (UTF-16 units) are tokenized on the preprocessing thread. */
const OFFLOAD_TEXT_FROM = 16_384;
/** Chat requests are rendered there from about this much input (see approximateSize). */
const OFFLOAD_RENDER_FROM = 16_384;

/** About how much text rendering `value` involves: string lengths plus a little per value, counted up to `limit`. */
function approximateSize(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total < limit) {
    const v = stack.pop();
    total += 8;
    if (typeof v === 'string') total += v.length;
    else if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v !== null && typeof v === 'object') for (const [key, item] of Object.entries(v)) stack.push(key, item);
  }
  return total;
}

export class Preprocessor implements TextTokenizer {
  readonly compileGrammar: (spec: GrammarSpec) => Promise<GrammarSpec>;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly prompter: ChatPrompter,
    private readonly thread: PreprocessWorker | undefined,
    /** Grammars are compiled on a thread of their own, cached. */
    readonly grammars = new GrammarCompiler(),
    /** The image encoder's thread, when the model is served with a projector. */
    readonly vision?: VisionThread,
  ) {
    this.compileGrammar = (spec) => this.grammars.compile(spec);
  }

  /** The preprocessing thread while it runs; without it, everything is done in place. */
  private get worker(): PreprocessWorker | undefined {
    return this.thread?.alive ? this.thread : undefined;
  }

  get vocabSize(): number {
    return this.tokenizer.vocabSize;
  }

  async tokenize(text: string, addSpecial: boolean): Promise<Int32Array> {
    if (!this.worker || text.length < OFFLOAD_TEXT_FROM) return this.tokenizer.tokenize(text, addSpecial);
    return (await this.worker.run({ op: 'tokenize', text, addSpecial })).ids!;
  }

  /** JSON text of the token spans of `text` (the /tokenize answer). */
  async tokenSpans(text: string, addSpecial: boolean): Promise<string> {
    if (!this.worker || text.length < OFFLOAD_TEXT_FROM) return tokenSpansJson(this.tokenizer, text, addSpecial);
    return (await this.worker.run({ op: 'spans', text, addSpecial })).text!;
  }

  /** The prompt of a chat request; throws MessageError or TemplateError as ChatPrompter.render does. */
  async render(input: ChatPromptInput): Promise<string> {
    const rendered = structuredInput(input);
    if (!this.worker || approximateSize(rendered, OFFLOAD_RENDER_FROM) < OFFLOAD_RENDER_FROM) return this.prompter.render(input);
    return (await this.worker.run({ op: 'render', input: rendered })).text!;
  }
}

/** Only the fields rendering reads: a parsed body may hold more (and values a thread cannot receive). */
function structuredInput(input: ChatPromptInput): ChatPromptInput {
  return {
    // Rendering puts a marker where an image is: its data stays here.
    messages: input.messages.map((message) =>
      Array.isArray(message.content)
        ? {
            ...message,
            content: message.content.map((part) => (isImagePart(part) ? { type: part.type, image_url: { url: '' } } : part)),
          }
        : message,
    ),
    tools: input.tools,
    tool_choice: input.tool_choice,
    tool_prompt: input.tool_prompt,
    chat_template_kwargs: input.chat_template_kwargs,
  };
}
