// Shapes of the operational routes' responses (/info, /tokenize, /chat_tokenize) and of the two
// error bodies, for the OpenAPI document and the handlers' types.
import { z } from 'zod';

const integer = z.number().int();

export const ServerInfoSchema = z.object({
  model_id: z.string(),
  model_sha: z.string().nullable(),
  model_pipeline_tag: z.string().nullable(),
  max_concurrent_requests: integer,
  max_best_of: integer,
  max_stop_sequences: integer,
  max_input_tokens: integer,
  max_total_tokens: integer,
  validation_workers: integer,
  max_client_batch_size: integer,
  max_batch_total_tokens: integer.meta({ description: 'Extension: KV cells the running requests share (--max-batch-total-tokens)' }),
  max_batch_size: integer.meta({ description: 'Extension: the most requests that run at once (--max-batch-size)' }),
  kv_cache_cells: integer.meta({ description: 'Extension: KV cells of the pool' }),
  kv_cache_bytes: integer.meta({ description: 'Extension: bytes of the KV pool' }),
  lora_adapters: z.array(z.string()).meta({ description: 'Extension: ids of the LoRA adapters a request may name (adapter_id)' }),
  input_modalities: z
    .array(z.enum(['text', 'image']))
    .meta({ description: 'Extension: what prompts may hold; "image" when the model is served with a projector (--mmproj)' }),
  image: z
    .object({
      projector_type: z.string(),
      image_size: integer.meta({ description: 'The square side, in pixels, the projector takes an image at' }),
      tokens_per_image: integer.meta({ description: 'Prompt tokens an image of that size costs' }),
    })
    .optional()
    .meta({ description: 'Extension: the projector, when images are served' }),
  router: z.string(),
  version: z.string(),
  sha: z.string().nullable(),
  docker_label: z.string().nullable(),
});

export type ServerInfo = z.infer<typeof ServerInfoSchema>;

const TokenSpanSchema = z.object({
  id: integer,
  text: z.string().meta({ description: 'The text of the byte span' }),
  start: integer.meta({ description: 'First UTF-8 byte of the token in the input' }),
  stop: integer.meta({ description: 'UTF-8 byte after the token' }),
});

export const TokenizeResponseSchema = z.array(TokenSpanSchema);

export const ChatTokenizeResponseSchema = z.object({
  tokenize_response: TokenizeResponseSchema,
  templated_text: z.string().meta({ description: 'The prompt the chat template rendered' }),
});

export const NativeErrorSchema = z.object({
  error: z.string(),
  error_type: z
    .string()
    .meta({ description: 'validation, overloaded, generation, incomplete_generation, template_error, healthcheck, shutdown' }),
});

/** A native route's 401: the message alone; huggingface_hub raises an HTTP error (status 401) for it. */
export const NativeAuthErrorSchema = z.strictObject({
  error: z.string().meta({ description: 'Missing API key or Invalid API key, and the header the route needs' }),
});

export const OpenAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/** While the model loads (and after it, for /health's 503): the Inference API's loading body. */
export const LoadingErrorSchema = z.object({
  error: z.string().meta({ description: 'Model <id> is currently loading' }),
  error_type: z.literal('loading'),
  estimated_time: z.number().meta({ description: 'Seconds until the model is expected to be ready' }),
});

export const UnhealthySchema = z.object({
  error: z.literal('unhealthy'),
  error_type: z.literal('healthcheck'),
  status: z.enum(['downloading', 'loading']).optional().meta({ description: 'While the model is being downloaded or loaded' }),
  progress: z.number().min(0).max(1).optional().meta({ description: 'Fraction of the current phase done' }),
  estimated_time: z.number().optional().meta({ description: 'Seconds left in the current phase, at the pace so far' }),
});
