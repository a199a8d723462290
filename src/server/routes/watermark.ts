// POST /watermark/detect (an extension): whether a text carries this server's watermark, scored
// with its --watermark-gamma over the model's vocabulary.
import type { FastifyInstance } from 'fastify';
import { parseBody } from '../../api/parse.js';
import { WatermarkDetectRequestSchema, type WatermarkDetectResponse } from '../../api/watermark.js';
import type { Generator } from '../generator.js';
import type { WatermarkSettings } from '../../sampling/watermark.js';
import { detectWatermark } from '../../watermark/detect.js';
import { ApiError } from '../errors.js';

export function registerWatermarkRoute(app: FastifyInstance, generator: Generator, settings: WatermarkSettings): void {
  app.post('/watermark/detect', { config: { family: 'native' as const } }, async (request): Promise<WatermarkDetectResponse> => {
    const body = parseBody(WatermarkDetectRequestSchema, request.body);
    const vocabSize = generator.tokenizer.vocabSize;
    const tokens = body.token_ids ?? Array.from(await generator.preprocessor.tokenize(body.inputs!, false));
    const outside = tokens.find((id) => id >= vocabSize);
    if (outside !== undefined) {
      throw new ApiError(
        422,
        'validation',
        `Input validation error: \`token_ids\` holds ${outside}, outside the vocabulary of ${vocabSize} tokens`,
        'token_ids',
      );
    }
    const result = detectWatermark(tokens, vocabSize, settings);
    return {
      scored_tokens: result.scoredTokens,
      green_tokens: result.greenTokens,
      green_fraction: result.greenFraction,
      z_score: result.zScore,
      p_value: result.pValue,
      gamma: settings.gamma,
      delta: settings.delta,
    };
  });
}
