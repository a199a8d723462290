// OpenAI-compatible request shapes (/v1/chat/completions, /v1/completions) and response types.
import { z } from 'zod';
import { GrammarSchema } from './native.js';
import { SeedSchema } from './seed.js';

const number = z.number();
const integer = z.number().int();

const ContentPartSchema = z.looseObject({ type: z.string() }).meta({
  description:
    'A part of a message\'s content. `{"type": "text", "text": ...}`, or an image: `{"type": "image_url", "image_url": {"url": ...}}` ' +
    '(the url a data URI of a base64 PNG, JPEG, WebP, GIF or BMP, or an http(s) URL the server fetches; `image_url` may also be the url ' +
    'itself, and `input_image` is taken as `image_url`). Images need a model served with its projector (--mmproj): ' +
    'a text-only model answers them with a 422.',
  examples: [
    { type: 'text', text: 'What is in this picture?' },
    { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo...' } },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
  ],
});

const ToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.literal('function').default('function'),
  function: z.looseObject({
    name: z.string(),
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  }),
});

/** OpenAI's chat roles (`function` is its deprecated form of `tool`). */
const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

const ChatMessageSchema = z.looseObject({
  role: z.enum(CHAT_ROLES, {
    error: (issue) => {
      const input = issue.input;
      const what =
        typeof input === 'string'
          ? `unknown role ${JSON.stringify(input)}`
          : input === undefined
            ? 'missing role'
            : 'role must be a string';
      return `${what}: expected one of ${CHAT_ROLES.join(', ')}`;
    },
  }),
  content: z.union([z.string(), z.array(ContentPartSchema)]).nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(ToolCallSchema).nullish(),
  tool_call_id: z.string().nullish(),
});

const ToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish().meta({
      description:
        'Every object of `parameters` admits only its declared properties where it does not say `additionalProperties` (the arguments object itself is closed so in any case)',
    }),
  }),
});

const ToolChoiceSchema = z.union([
  z.string(),
  // `type` may be left out: huggingface_hub's typed named choice sends only `function`.
  z.looseObject({ type: z.literal('function').optional(), function: z.looseObject({ name: z.string() }) }),
]);

/** Sampling fields both OpenAI routes share, plus the TGI/vLLM extensions top_k, repetition_penalty, typical_p. */
const SamplingFields = {
  model: z.string().nullish(),
  max_tokens: integer.nullish(),
  temperature: number.nullish(),
  top_p: number.nullish(),
  n: integer.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: SeedSchema.nullish(),
  presence_penalty: number.nullish(),
  frequency_penalty: number.nullish(),
  /** OpenAI's token id -> bias map, or TGI's list of floats (accepted and ignored, as TGI does). */
  logit_bias: z.union([z.record(z.string(), number), z.array(number)]).nullish(),
  user: z.string().nullish(),
  top_k: integer.nullish(),
  repetition_penalty: number.nullish(),
  typical_p: number.nullish(),
  /** An extension: the LoRA adapter to generate with (as `parameters.adapter_id` of the native routes). */
  adapter_id: z.string().nullish(),
};

export const ChatRequestSchema = z.looseObject({
  ...SamplingFields,
  messages: z.array(ChatMessageSchema),
  max_completion_tokens: integer.nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: integer.nullish(),
  tools: z.array(ToolSchema).nullish(),
  tool_choice: ToolChoiceSchema.nullish(),
  tool_prompt: z.string().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
  /** Extra variables for the chat template (vLLM's extension, e.g. {"enable_thinking": false}). */
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
});

export const CompletionRequestSchema = z.looseObject({
  ...SamplingFields,
  prompt: z.union([z.string(), z.array(z.string())]),
  suffix: z.string().nullish(),
  logprobs: integer.nullish(),
  echo: z.boolean().nullish(),
  best_of: integer.nullish(),
  /** An extension: the chat route's constraint on the completion text. */
  response_format: z.looseObject({ type: z.string() }).nullish(),
  /**
   * An extension: TGI's `grammar` parameter (Hugging Face's text-generation task, which
   * @huggingface/inference sends to /v1/completions with the other parameters).
   */
  grammar: GrammarSchema.nullish(),
});

export type ChatMessageJson = z.infer<typeof ChatMessageSchema>;
export type ToolJson = z.infer<typeof ToolSchema>;
export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

const UsageJsonSchema = z.object({
  prompt_tokens: integer,
  completion_tokens: integer,
  total_tokens: integer,
  prompt_tokens_details: z.object({
    cached_tokens: integer.meta({
      description: 'Prompt tokens whose KV cache came from an earlier or running request (prefix caching) instead of being computed',
    }),
  }),
});

const TopLogprobJsonSchema = z.object({
  token: z.string(),
  logprob: number,
  bytes: z.array(integer),
});

const LogprobContentJsonSchema = TopLogprobJsonSchema.extend({
  top_logprobs: z.array(TopLogprobJsonSchema),
});

const ToolCallJsonSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string().meta({ description: 'The arguments as a JSON text' }) }),
});

const OpenAiFinishReasonSchema = z.enum(['stop', 'length', 'tool_calls']);

const ChatChoiceJsonSchema = z.object({
  index: integer,
  message: z.object({
    role: z.literal('assistant'),
    content: z.string().nullable(),
    refusal: z.null(),
    tool_calls: z.array(ToolCallJsonSchema).optional(),
  }),
  logprobs: z.object({ content: z.array(LogprobContentJsonSchema) }).nullable(),
  finish_reason: OpenAiFinishReasonSchema,
});

export const ChatCompletionJsonSchema = z.object({
  id: z.string().meta({ description: 'chatcmpl- followed by a random id' }),
  object: z.literal('chat.completion'),
  created: integer,
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(ChatChoiceJsonSchema),
  usage: UsageJsonSchema,
});

/** One event of a streamed chat completion (documentation: the stream writer builds these inline). */
export const ChatCompletionChunkJsonSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: integer,
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(
    z.object({
      index: integer,
      delta: z.object({
        role: z.literal('assistant').optional(),
        content: z.string().optional(),
        tool_calls: z
          .array(
            z.object({
              index: integer,
              id: z.string().optional(),
              type: z.literal('function').optional(),
              function: z.object({ name: z.string().optional(), arguments: z.string() }),
            }),
          )
          .optional(),
      }),
      logprobs: z.object({ content: z.array(LogprobContentJsonSchema) }).nullable(),
      finish_reason: OpenAiFinishReasonSchema.nullable(),
    }),
  ),
  usage: UsageJsonSchema.nullable().optional().meta({ description: 'In the last event when stream_options.include_usage was true' }),
});

const CompletionLogprobsJsonSchema = z.object({
  tokens: z.array(z.string()),
  token_logprobs: z.array(number.nullable()),
  top_logprobs: z.array(z.record(z.string(), number).nullable()),
  text_offset: z.array(integer),
});

const CompletionChoiceJsonSchema = z.object({
  index: integer,
  text: z.string(),
  logprobs: CompletionLogprobsJsonSchema.nullable(),
  finish_reason: OpenAiFinishReasonSchema.nullable(),
});

export const CompletionJsonSchema = z.object({
  id: z.string().meta({ description: 'cmpl- followed by a random id' }),
  object: z.literal('text_completion'),
  created: integer,
  model: z.string(),
  system_fingerprint: z.string(),
  choices: z.array(CompletionChoiceJsonSchema),
  usage: UsageJsonSchema,
});

export const ModelJsonSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: integer.meta({ description: 'Unix seconds: when the model file was written; for a LoRA adapter, when the server started' }),
  owned_by: z.string(),
  parent: z.string().optional().meta({ description: 'For a LoRA adapter: the served model it adapts' }),
  input_modalities: z
    .array(z.enum(['text', 'image']))
    .optional()
    .meta({ description: 'What its prompts may hold: ["text", "image"] when the model is served with a projector' }),
});

export const ModelListJsonSchema = z.object({
  object: z.literal('list'),
  data: z.array(ModelJsonSchema),
});

export type UsageJson = z.infer<typeof UsageJsonSchema>;
export type TopLogprobJson = z.infer<typeof TopLogprobJsonSchema>;
export type LogprobContentJson = z.infer<typeof LogprobContentJsonSchema>;
export type ToolCallJson = z.infer<typeof ToolCallJsonSchema>;
export type ChatChoiceJson = z.infer<typeof ChatChoiceJsonSchema>;
export type ChatCompletionJson = z.infer<typeof ChatCompletionJsonSchema>;
export type CompletionLogprobsJson = z.infer<typeof CompletionLogprobsJsonSchema>;
export type CompletionChoiceJson = z.infer<typeof CompletionChoiceJsonSchema>;
export type CompletionJson = z.infer<typeof CompletionJsonSchema>;
