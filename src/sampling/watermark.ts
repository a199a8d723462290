// TGI's soft watermark ("A Watermark for Large Language Models"): a green list of token ids keyed
// on the previous token, boosted by delta; and a detector that scores a token sequence.
import { MersenneTwister } from './mt19937.js';

const WATERMARK_HASH_KEY = 15485863;

export interface WatermarkSettings {
  gamma: number;
  delta: number;
}

/** The seed TGI derives from the previous token: the low 32 bits of hash_key × prev. */
export function watermarkSeed(previousToken: number): number {
  return Number((BigInt(WATERMARK_HASH_KEY) * BigInt(previousToken)) & 0xffffffffn);
}

/** torch.randperm's CPU algorithm for small n, driven by MT19937. */
export function seededPermutation(size: number, seed: number): Uint32Array {
  const rng = new MersenneTwister(seed);
  const r = new Uint32Array(size);
  for (let i = 0; i < size; i++) r[i] = i;
  for (let i = 0; i < size - 1; i++) {
    const z = rng.nextUint32() % (size - i);
    const tmp = r[i];
    r[i] = r[i + z];
    r[i + z] = tmp;
  }
  return r;
}

export function greenList(previousToken: number, vocabSize: number, gamma: number): Uint32Array {
  const permutation = seededPermutation(vocabSize, watermarkSeed(previousToken));
  return permutation.subarray(0, Math.floor(vocabSize * gamma));
}

export function applyWatermark(scores: Float32Array, previousToken: number, settings: WatermarkSettings): void {
  for (const id of greenList(previousToken, scores.length, settings.gamma)) scores[id] += settings.delta;
}

export interface WatermarkScore {
  scoredTokens: number;
  greenTokens: number;
  greenFraction: number;
  zScore: number;
}

/**
 * Detection: count how many tokens fall in the green list of their predecessor and compare with
 * the gamma expected by chance. A z-score above about 4 means the text is almost surely watermarked.
 */
export function scoreWatermark(tokens: ArrayLike<number>, vocabSize: number, settings: Pick<WatermarkSettings, 'gamma'>): WatermarkScore {
  const greenSets = new Map<number, Set<number>>();
  let green = 0;
  const scored = Math.max(0, tokens.length - 1);
  for (let i = 1; i < tokens.length; i++) {
    const prev = tokens[i - 1];
    let set = greenSets.get(prev);
    if (!set) {
      set = new Set(greenList(prev, vocabSize, settings.gamma));
      greenSets.set(prev, set);
    }
    if (set.has(tokens[i])) green++;
  }
  const gamma = settings.gamma;
  const zScore = scored === 0 ? 0 : (green - gamma * scored) / Math.sqrt(scored * gamma * (1 - gamma));
  return { scoredTokens: scored, greenTokens: green, greenFraction: scored ? green / scored : 0, zScore };
}
