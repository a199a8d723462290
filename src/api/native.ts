// TGI's native request shapes (/generate, /generate_stream, POST /, /tokenize) and responses.
import { z } from 'zod';
import { SeedSchema } from './seed.js';

const U32_MAX = 4294967295;

const uint32 = z.number().int().min(0).max(U32_MAX);

export const GrammarSchema = z.object({
  type: z.enum(['json', 'json_object', 'regex', 'json_schema']),
  value: z.unknown(),
});

const GenerateParametersSchema = z.object({
  best_of: uint32.nullish(),
  temperature: z.number().nullish(),
  repetition_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  top_k: z.number().int().min(-2147483648).max(2147483647).nullish(),
  top_p: z.number().nullish(),
  typical_p: z.number().nullish(),
  do_sample: z.boolean().optional(),
  max_new_tokens: uint32.nullish(),
  return_full_text: z.boolean().nullish(),
  stop: z.array(z.string()).optional(),
  truncate: uint32.nullish(),
  watermark: z.boolean().optional(),
  details: z.boolean().optional(),
  decoder_input_details: z.boolean().optional(),
  seed: SeedSchema.nullish(),
  top_n_tokens: uint32.nullish(),
  grammar: GrammarSchema.nullish(),
  adapter_id: z.string().nullish(),
});

export const GenerateRequestSchema = z.object({
  inputs: z.string().meta({
    description:
      'The prompt. With a model served with its projector (--mmproj), images are written in it as markdown, as TGI does: ' +
      "`![](data:image/png;base64,...)` or `![](https://...)`; each becomes the image's prompt tokens where it stands.",
    examples: ['What is deep learning?', '![](https://example.com/cat.png)What is this a picture of?'],
  }),
  parameters: GenerateParametersSchema.optional(),
});

export const CompatGenerateRequestSchema = GenerateRequestSchema.extend({
  stream: z.boolean().optional(),
});

export type GenerateParameters = z.infer<typeof GenerateParametersSchema>;

/** A u64 in responses: a bigint beyond 2^53 (written as the exact integer by json-body.ts). */
const U64JsonSchema = z.union([z.number().int(), z.bigint()]);

const TokenJsonSchema = z.object({
  id: z.number().int(),
  text: z.string(),
  logprob: z.number().nullable(),
  special: z.boolean(),
});

const PrefillTokenJsonSchema = z.object({
  id: z.number().int(),
  text: z.string(),
  logprob: z.number().nullable().meta({ description: 'null for the first token' }),
});

const FinishReasonSchema = z.enum(['length', 'eos_token', 'stop_sequence']);

const SequenceDetailsFields = {
  finish_reason: FinishReasonSchema,
  generated_tokens: z.number().int(),
  seed: U64JsonSchema.nullable().meta({ description: 'The seed drawn from; null when decoding was greedy' }),
  prefill: z
    .array(PrefillTokenJsonSchema)
    .meta({ description: 'The prompt tokens, with their logprobs when decoder_input_details was true' }),
  tokens: z.array(TokenJsonSchema),
  top_tokens: z.array(z.array(TokenJsonSchema)).optional().meta({ description: 'Present when top_n_tokens > 0' }),
};

const BestOfSequenceJsonSchema = z.object({ generated_text: z.string(), ...SequenceDetailsFields });

const DetailsJsonSchema = z.object({
  ...SequenceDetailsFields,
  best_of_sequences: z
    .array(BestOfSequenceJsonSchema)
    .optional()
    .meta({ description: 'Present when best_of > 1: the sequences not chosen' }),
});

export const GenerateResponseJsonSchema = z.object({
  generated_text: z.string(),
  details: DetailsJsonSchema.optional().meta({ description: 'Present when details or decoder_input_details was true' }),
});

const StreamDetailsJsonSchema = z.object({
  finish_reason: FinishReasonSchema,
  generated_tokens: z.number().int(),
  seed: U64JsonSchema.nullable(),
  input_length: z.number().int(),
});

export const StreamResponseJsonSchema = z.object({
  index: z.number().int(),
  token: TokenJsonSchema,
  top_tokens: z.array(TokenJsonSchema).optional(),
  generated_text: z.string().nullable().meta({ description: 'The whole text, in the last event only' }),
  details: StreamDetailsJsonSchema.nullable().meta({ description: 'In the last event only, when details was true' }),
});

export type TokenJson = z.infer<typeof TokenJsonSchema>;
export type DetailsJson = z.infer<typeof DetailsJsonSchema>;
export type BestOfSequenceJson = z.infer<typeof BestOfSequenceJsonSchema>;
export type GenerateResponseJson = z.infer<typeof GenerateResponseJsonSchema>;
export type StreamResponseJson = z.infer<typeof StreamResponseJsonSchema>;
