// The watermark test of Kirchenbauer et al. as TGI applies the watermark: the share of tokens in
// the green list seeded by the token before, against the expected share gamma.
import { scoreWatermark, type WatermarkSettings } from '../sampling/watermark.js';

export interface WatermarkDetection {
  scoredTokens: number;
  greenTokens: number;
  greenFraction: number;
  zScore: number;
  pValue: number;
}

export function detectWatermark(tokens: ArrayLike<number>, vocabSize: number, settings: WatermarkSettings): WatermarkDetection {
  const score = scoreWatermark(tokens, vocabSize, settings);
  const pValue = score.scoredTokens === 0 ? 1 : upperTailProbability(score.zScore);
  return { ...score, pValue };
}

/** P(Z >= z) for a standard normal Z. */
export function upperTailProbability(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * The complementary error function, to a relative error below 1.2e-7 everywhere (the Chebyshev
 * fit of Numerical Recipes' erfcc), which keeps tiny p-values of long watermarked texts meaningful.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
