// POST /watermark/detect (an extension): the text or token ids to test for the server's watermark.
import { z } from 'zod';

const MAX_TOKEN_ID = 2 ** 31 - 1;

export const WatermarkDetectRequestSchema = z
  .object({
    inputs: z.string().optional(),
    token_ids: z.array(z.number().int().min(0).max(MAX_TOKEN_ID)).optional(),
  })
  .refine((body) => (body.inputs === undefined) !== (body.token_ids === undefined), {
    message: 'give exactly one of `inputs` (text) and `token_ids`',
  });

export const WatermarkDetectResponseSchema = z.object({
  scored_tokens: z
    .number()
    .int()
    .meta({ description: 'Tokens scored: every token but the first, whose green list depends on the one before' }),
  green_tokens: z.number().int(),
  green_fraction: z.number(),
  z_score: z.number(),
  p_value: z.number().meta({ description: 'One-sided: the chance of at least this many green tokens in unwatermarked text' }),
  gamma: z.number(),
  delta: z.number(),
});

export type WatermarkDetectResponse = z.infer<typeof WatermarkDetectResponseSchema>;
