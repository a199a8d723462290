// POST /watermark/detect (an extension): the text or token ids to test for the server's watermark.
import { z } from 'zod';

const MAX_TOKEN_ID = 2 ** 31 - 1;

export const WatermarkDetectRequestSchema = z
  .object({
    inputs: z.string().optional(),
    token_ids: z.array(z.number().int().min(0).max(MAX_TOKEN_ID)).optional(),
  })
  .refine((body) => (body.inputs === undefined) !== (body.token_ids === undefined), { message: 'give exactly one of `inputs` (text) and `token_ids`' });

export type WatermarkDetectRequest = z.infer<typeof WatermarkDetectRequestSchema>;

export interface WatermarkDetectResponse {
  /** Tokens scored: every token but the first, whose green list depends on the one before. */
  scored_tokens: number;
  green_tokens: number;
  green_fraction: number;
  z_score: number;
  /** One-sided: the chance of at least this many green tokens in unwatermarked text. */
  p_value: number;
  gamma: number;
  delta: number;
}
