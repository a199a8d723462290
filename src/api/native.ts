// TGI's native request shapes (/generate, /generate_stream, POST /, /tokenize) and responses.
import { z } from 'zod';
import { SeedSchema } from './seed.js';

const U32_MAX = 4294967295;

const uint32 = z.number().int().min(0).max(U32_MAX);

export const GrammarSchema = z.object({
  type: z.enum(['json', 'json_object', 'regex', 'json_schema']),
  value: z.unknown(),
});

export const GenerateParametersSchema = z.object({
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
  inputs: z.string(),
  parameters: GenerateParametersSchema.optional(),
});

export const CompatGenerateRequestSchema = GenerateRequestSchema.extend({
  stream: z.boolean().optional(),
});

export type GenerateParameters = z.infer<typeof GenerateParametersSchema>;
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;
export type CompatGenerateRequest = z.infer<typeof CompatGenerateRequestSchema>;

export interface TokenJson {
  id: number;
  text: string;
  logprob: number | null;
  special: boolean;
}

export interface PrefillTokenJson {
  id: number;
  text: string;
  logprob: number | null;
}

export interface DetailsJson {
  finish_reason: string;
  generated_tokens: number;
  seed: number | bigint | null;
  prefill: PrefillTokenJson[];
  tokens: TokenJson[];
  top_tokens?: TokenJson[][];
  best_of_sequences?: BestOfSequenceJson[];
}

export type BestOfSequenceJson = Omit<DetailsJson, 'best_of_sequences'> & { generated_text: string };

export interface GenerateResponseJson {
  generated_text: string;
  details?: DetailsJson;
}

export interface StreamDetailsJson {
  finish_reason: string;
  generated_tokens: number;
  seed: number | bigint | null;
  input_length: number;
}

export interface StreamResponseJson {
  index: number;
  token: TokenJson;
  top_tokens?: TokenJson[];
  generated_text: string | null;
  details: StreamDetailsJson | null;
}
