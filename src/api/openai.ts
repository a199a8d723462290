// OpenAI-compatible request shapes (/v1/chat/completions, /v1/completions) and response types.
import { z } from 'zod';
import { GrammarSchema } from './native.js';
import { SeedSchema } from './seed.js';

const number = z.number();
const integer = z.number().int();

const ContentPartSchema = z.looseObject({ type: z.string() });

const ToolCallSchema = z.looseObject({
  id: z.string().nullish(),
  type: z.literal('function').default('function'),
  function: z.looseObject({
    name: z.string(),
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  }),
});

export const ChatMessageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(ContentPartSchema)]).nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(ToolCallSchema).nullish(),
  tool_call_id: z.string().nullish(),
});

export const ToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const ToolChoiceSchema = z.union([
  z.string(),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
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
  logit_bias: z.record(z.string(), number).nullish(),
  user: z.string().nullish(),
  top_k: integer.nullish(),
  repetition_penalty: number.nullish(),
  typical_p: number.nullish(),
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

export interface UsageJson {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface TopLogprobJson {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface LogprobContentJson extends TopLogprobJson {
  top_logprobs: TopLogprobJson[];
}

export interface ToolCallJson {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatChoiceJson {
  index: number;
  message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: ToolCallJson[] };
  logprobs: { content: LogprobContentJson[] } | null;
  finish_reason: string;
}

export interface ChatCompletionJson {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: ChatChoiceJson[];
  usage: UsageJson;
}

export interface CompletionLogprobsJson {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export interface CompletionChoiceJson {
  index: number;
  text: string;
  logprobs: CompletionLogprobsJson | null;
  finish_reason: string | null;
}

export interface CompletionJson {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: CompletionChoiceJson[];
  usage: UsageJson;
}
