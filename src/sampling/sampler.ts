// Per-sequence token choice with TGI's logits processors, in TGI's order: watermark, repetition
// penalty, frequency penalty, (OpenAI's logit bias and additive penalties), temperature, top-k,
// top-p, typical-p; then greedy or a seeded draw.
// Logprobs (of the chosen token and the top-n) come from the final processed distribution.
import type { SamplingParams } from './params.js';
import { SeededRandom } from './random.js';
import { applyWatermark, type WatermarkSettings } from './watermark.js';
import { scoreKernels } from './kernels.js';

export interface ScoredToken {
  id: number;
  logprob: number;
}

export interface TokenChoice extends ScoredToken {
  top: ScoredToken[];
}

/** Tokens a constraint refuses at this step: it sets their scores to -Infinity. */
export interface ScoreMask {
  applyTo(scores: Float32Array): void;
}

/** TGI samples when asked to or when any warper is active. */
export function isSampling(p: SamplingParams): boolean {
  return p.doSample || p.temperature !== 1 || p.topK !== 0 || p.topP < 1 || p.typicalP < 1;
}

export class SequenceSampler {
  private readonly random: SeededRandom;
  private readonly sampling: boolean;
  private readonly counts = new Map<number, number>();
  /** Generated tokens only: OpenAI's presence and frequency penalties ignore the prompt. */
  private readonly outputCounts = new Map<number, number>();
  private inOutput = false;
  private historyLength = 0;
  private lastToken = -1;
  private scratch: Float32Array | undefined;

  constructor(
    private readonly params: SamplingParams,
    history: ArrayLike<number>,
    private readonly watermark: WatermarkSettings,
  ) {
    this.random = new SeededRandom(params.seed);
    this.sampling = isSampling(params);
    for (let i = 0; i < history.length; i++) this.accept(history[i]);
    this.inOutput = true;
  }

  /** Records a token of the sequence (prompt or generated) for the penalties and the watermark. */
  accept(id: number): void {
    // An image row (negative placeholder id) is no token to penalize.
    if (id < 0) return;
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    if (this.inOutput) this.outputCounts.set(id, (this.outputCounts.get(id) ?? 0) + 1);
    this.historyLength++;
    this.lastToken = id;
  }

  /**
   * Whether drawing from the unconstrained distribution and, when the constraint refuses the
   * token, again from the constrained one gives exactly the constrained distribution: true for
   * greedy decoding (the best allowed token is the best token when it is allowed) and for plain
   * temperature sampling (rejection); not with top-k, top-p or typical-p, whose cut depends on
   * which tokens the mask leaves.
   */
  get canCheckDrawnToken(): boolean {
    const p = this.params;
    return !this.sampling || (p.topK === 0 && p.topP >= 1 && p.typicalP >= 1);
  }

  /** `mask` (a grammar's) applies after the penalties and before temperature, as TGI orders them. */
  choose(logits: Float32Array, topN: number, mask?: ScoreMask): TokenChoice {
    const p = this.params;
    const presence = p.presencePenalty ?? 0;
    const perCount = p.countPenalty ?? 0;
    const bias = p.logitBias ?? [];
    const additive = presence !== 0 || perCount !== 0 || bias.length > 0;
    const warps =
      mask !== undefined ||
      p.watermark ||
      additive ||
      p.repetitionPenalty !== 1 ||
      p.frequencyPenalty !== 0 ||
      p.temperature !== 1 ||
      p.topK !== 0 ||
      p.topP < 1 ||
      p.typicalP < 1;
    let s = logits;
    if (warps) {
      if (!this.scratch || this.scratch.length !== logits.length) this.scratch = new Float32Array(logits.length);
      this.scratch.set(logits);
      s = this.scratch;
      if (p.watermark && this.lastToken >= 0) applyWatermark(s, this.lastToken, this.watermark);
      if (p.repetitionPenalty !== 1) {
        const r = p.repetitionPenalty;
        // An extreme penalty would overflow float32 to ±Infinity (and then NaN); the largest finite score is as good.
        for (const id of this.counts.keys()) if (id < s.length) s[id] = clampScore(s[id] < 0 ? s[id] * r : s[id] / r);
      }
      if (p.frequencyPenalty !== 0 && this.historyLength > 0) {
        const scale = p.frequencyPenalty / this.historyLength;
        for (const [id, count] of this.counts) if (id < s.length) s[id] -= scale * count;
      }
      if (additive) {
        for (const [id, value] of bias) if (id < s.length) s[id] += value;
        for (const [id, count] of this.outputCounts) if (id < s.length) s[id] -= presence + perCount * count;
      }
      mask?.applyTo(s);
      if (p.temperature !== 1) applyTemperature(s, p.temperature);
      if (p.topK > 0 && p.topK < s.length) applyTopK(s, p.topK);
      if (p.topP < 1) applyTopP(s, p.topP);
      if (p.typicalP < 1) applyTypicalP(s, p.typicalP);
    }
    const kernels = scoreKernels();
    kernels.load(s);
    const best = kernels.argmax();
    const max = s[best];
    const sum = kernels.sumExp(max);
    const logZ = max + Math.log(sum);
    let id = best;
    if (this.sampling) {
      id = kernels.draw(max, this.random.nextFloat() * sum);
      if (id < 0) id = best;
    }
    const top = topN > 0 ? topTokens(s, topN, logZ) : [];
    return { id, logprob: finiteLogprob(s[id] - logZ), top };
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

const clampScore = (x: number) => (x > FLOAT32_MAX ? FLOAT32_MAX : x < -FLOAT32_MAX ? -FLOAT32_MAX : x);

/** Logprobs are written as float32 numbers: one too small to hold is the smallest float32 instead. */
const finiteLogprob = (x: number) => (x < -FLOAT32_MAX ? -FLOAT32_MAX : x);

/**
 * Divides the scores by the temperature. A temperature so small that the division would overflow
 * float32 is measured from the best score instead (softmax does not change): in the limit only the
 * best tokens keep any probability, which is greedy decoding.
 */
function applyTemperature(s: Float32Array, temperature: number): void {
  const inv = 1 / temperature;
  let max = -Infinity;
  if (inv > 1) for (let i = 0; i < s.length; i++) if (s[i] > max) max = s[i];
  if (!(inv > 1) || max === -Infinity || Math.abs(max * inv) < FLOAT32_MAX) {
    for (let i = 0; i < s.length; i++) s[i] *= inv;
    return;
  }
  for (let i = 0; i < s.length; i++) {
    const d = s[i] - max;
    s[i] = d === 0 ? 0 : d * inv;
  }
}

/** The k-th largest finite value of s (k >= 1), or -Infinity when fewer than k are finite. */
export function kthLargest(s: Float32Array, k: number): number {
  if (k <= SMALL_K) return kthLargestSmall(s, k);
  const values: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] > -Infinity) values.push(s[i]);
  if (values.length < k) return -Infinity;
  return quickselectDescending(values, k - 1);
}

const SMALL_K = 128;

/** One pass keeping the k largest in a min-heap: almost every score is rejected by one comparison. */
function kthLargestSmall(s: Float32Array, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    if (size === k) {
      if (v <= heap[0]) continue;
      heap[0] = v;
      siftDown(heap, size);
    } else if (v > -Infinity) {
      let j = size++;
      heap[j] = v;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (heap[parent] <= heap[j]) break;
        const t = heap[parent];
        heap[parent] = heap[j];
        heap[j] = t;
        j = parent;
      }
    }
  }
  return size < k ? -Infinity : heap[0];
}

function siftDown(heap: Float64Array, size: number): void {
  let j = 0;
  for (;;) {
    const left = 2 * j + 1;
    if (left >= size) return;
    const right = left + 1;
    const child = right < size && heap[right] < heap[left] ? right : left;
    if (heap[j] <= heap[child]) return;
    const t = heap[j];
    heap[j] = heap[child];
    heap[child] = t;
    j = child;
  }
}

function quickselectDescending(values: number[], index: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (index <= j) hi = j;
    else if (index >= i) lo = i;
    else return values[index];
  }
  return values[index];
}

function applyTopK(s: Float32Array, k: number): void {
  const threshold = kthLargest(s, k);
  for (let i = 0; i < s.length; i++) if (s[i] < threshold) s[i] = -Infinity;
}

function finiteIndices(s: Float32Array): number[] {
  const ids: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] > -Infinity) ids.push(i);
  return ids;
}

/** Buckets of score by which top-p finds its cut without sorting the whole vocabulary. */
const TOP_P_BUCKETS = 1024;
let topPBuckets: Uint16Array | undefined;

/**
 * TGI's top-p: in ascending order of score (ties by id), removes tokens while the cumulative
 * probability stays at most 1 - p, always keeping the best. Sorting 151,936 scores took 65 ms per
 * token; here the scores are bucketed by value, whole buckets at the bottom are removed by their
 * mass, and only the bucket where the cut falls is sorted.
 */
export function applyTopP(s: Float32Array, p: number): void {
  let max = -Infinity;
  let min = Infinity;
  let finite = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    if (v === -Infinity) continue;
    finite++;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  if (finite <= 1) return;
  const scale = max > min ? TOP_P_BUCKETS / (max - min) : 0;
  if (!topPBuckets || topPBuckets.length < s.length) topPBuckets = new Uint16Array(s.length);
  const buckets = topPBuckets;
  const mass = new Float64Array(TOP_P_BUCKETS);
  let total = 0;
  let best = -1;
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    if (v === -Infinity) continue;
    if (v >= max) best = i;
    const e = Math.exp(v - max);
    total += e;
    const bucket = Math.min(TOP_P_BUCKETS - 1, ((v - min) * scale) | 0);
    buckets[i] = bucket;
    mass[bucket] += e;
  }
  const removable = (1 - p) * total;
  let cumulative = 0;
  let cut = 0;
  // The best token's bucket is never removed whole (with p near 0 every other token may go).
  const top = buckets[best];
  while (cut < top && cumulative + mass[cut] <= removable) cumulative += mass[cut++];
  // Below the cut's bucket every token goes; above it every token stays; within it, in order.
  const boundary: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === -Infinity) continue;
    const bucket = buckets[i];
    if (bucket < cut) s[i] = -Infinity;
    else if (bucket === cut) boundary.push(i);
  }
  boundary.sort((a, b) => s[a] - s[b] || a - b);
  for (const id of boundary) {
    if (id === best) break;
    cumulative += Math.exp(s[id] - max);
    if (cumulative <= removable) s[id] = -Infinity;
    else break;
  }
}

function applyTypicalP(s: Float32Array, mass: number): void {
  const ids = finiteIndices(s);
  if (ids.length <= 1) return;
  let max = -Infinity;
  for (const id of ids) if (s[id] > max) max = s[id];
  let total = 0;
  for (const id of ids) total += Math.exp(s[id] - max);
  const logZ = max + Math.log(total);
  let entropy = 0;
  for (const id of ids) {
    const lp = s[id] - logZ;
    entropy -= Math.exp(lp) * lp;
  }
  const deviation = new Map<number, number>();
  for (const id of ids) deviation.set(id, Math.abs(-(s[id] - logZ) - entropy));
  ids.sort((a, b) => deviation.get(a)! - deviation.get(b)!);
  let cumulative = 0;
  let last = 0;
  for (const id of ids) {
    cumulative += Math.exp(s[id] - logZ);
    if (cumulative < mass) last++;
    else break;
  }
  last = Math.min(last, ids.length - 1);
  const limit = deviation.get(ids[last])!;
  for (const id of ids) if (deviation.get(id)! > limit) s[id] = -Infinity;
}

/** Every token whose score reaches the n-th highest (ties included), best first; filtered tokens never. */
function topTokens(s: Float32Array, n: number, logZ: number): ScoredToken[] {
  const threshold = kthLargest(s, Math.min(n, s.length));
  const floor = threshold === -Infinity ? -Infinity : threshold;
  const picked: ScoredToken[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] > -Infinity && s[i] >= floor) picked.push({ id: i, logprob: finiteLogprob(s[i] - logZ) });
  }
  return picked.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
}
