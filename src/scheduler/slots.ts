// Sequence slots and the prompt prefixes their KV cells still hold. A new request takes the free
// slot whose cached tokens share the longest prefix with its prompt; when a busier slot holds a much
// longer match, its cells are copied instead of recomputing the shared prefix. A prompt that matches
// nothing evicts the least useful cached prompt. Cells computed under one LoRA adapter (or none) are
// never reused for another: a prefix is shared only between prompts of the same adapter.
//
// Reused cells hold exactly the numbers recomputing them would give. llama.cpp's CPU attention
// rounds differently in its tiled kernel (a chunk of `tile` or more tokens of one sequence) and
// query by query, so the scheduler computes every prompt the same way whatever is cached: the
// tokens before the last in chunks of at least `tile` when there are that many (by the tiled
// kernel), else and for the last token query by query. A slot's cells are reused only where they
// were computed as the new prompt's would be.

/**
 * Below this many shared tokens a copy of another slot's cells is not worth it, nor is overwriting
 * a free slot's cached prompt (unless the new prompt is all cached there).
 */
const MIN_SHARED_PREFIX = 32;

export interface SlotView {
  /** Tokens whose KV cells are valid in this slot, in position order. */
  readonly tokens: ArrayLike<number>;
  /** For a running slot: the full prompt it will have cached once prefilled. */
  readonly pendingPrompt?: ArrayLike<number>;
  /** The LoRA adapter its cells were computed with (undefined: the base model). */
  readonly adapter?: string;
  /** Its leading cells computed by the tiled attention kernel (the rest query by query). */
  readonly tiled?: number;
}

/** A position where a cached prefix of a prompt with images may end; `tiledOnly`: if the cells before it were computed by the tiled kernel. */
export interface ReusePoint {
  at: number;
  tiledOnly: boolean;
}

export type Placement = { kind: 'place'; slot: number; reuse: number; copyFrom?: number } | { kind: 'defer' } | { kind: 'full' };

function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SlotTable {
  /** Free slots: the tokens their cells still hold, and under which adapter. */
  private readonly free = new Map<number, { tokens: number[]; adapter?: string; tiled?: number }>();
  /** When each slot was last released (a counter), for least-recently-used eviction. */
  private readonly releasedAt = new Map<number, number>();
  private releases = 0;

  /**
   * Slots below `busy` start taken (sequences kept through a new KV layout). `tile`: the chunk
   * size from which prompts are computed by the tiled attention kernel (0: never).
   */
  constructor(
    private readonly capacity: number,
    private readonly prefixCaching: boolean,
    busy = 0,
    private readonly tile = 0,
  ) {
    for (let slot = busy; slot < capacity; slot++) this.free.set(slot, { tokens: [] });
  }

  get available(): number {
    return this.free.size;
  }

  /** Leading cells of a prompt of `length` tokens that the tiled kernel computes. */
  tiledCells(length: number): number {
    return this.tile > 0 && length - 1 >= this.tile ? length - 1 : 0;
  }

  /**
   * How many of `shared` cells a prompt of `length` tokens can reuse from cells whose first
   * `tiled` were computed by the tiled kernel: those its own computation would give. After a
   * partial match the rest before the last token must still be a whole chunk for the tiled kernel.
   */
  private usable(length: number, shared: number, tiled: number): number {
    if (this.tile === 0) return shared;
    const body = length - 1;
    if (body < this.tile) return tiled > 0 ? 0 : shared;
    const cells = Math.min(shared, tiled);
    return cells === body || body - cells >= this.tile ? cells : body - this.tile;
  }

  /**
   * Where to run `prompt`. `running` describes the busy slots. The last prompt token is never
   * reused, so that its logits are computed. `allowReuse` is false when every prompt position
   * must be recomputed (prompt logprobs).
   */
  place(
    prompt: ArrayLike<number>,
    running: Map<number, SlotView>,
    allowReuse: boolean,
    adapter?: string,
    /** For a prompt with images: the only places a reused prefix may end. */
    points?: readonly ReusePoint[],
  ): Placement {
    if (this.free.size === 0) return { kind: 'full' };
    const limit = Math.max(0, prompt.length - 1);
    const reuse = this.prefixCaching && allowReuse;
    const usable = (length: number, shared: number, tiled: number) =>
      points ? usableAt(points, shared, tiled) : this.usable(length, shared, tiled);

    let bestFree = -1;
    let bestFreeShared = 0;
    if (reuse) {
      for (const [slot, cached] of this.free) {
        if (cached.adapter !== adapter) continue;
        const shared = usable(prompt.length, Math.min(limit, commonPrefix(cached.tokens, prompt)), cached.tiled ?? 0);
        // A few shared tokens (a BOS, a greeting) are not worth evicting the prompt cached there.
        // (A prompt's images are always worth it.)
        if (shared < MIN_SHARED_PREFIX && shared < limit && !points) continue;
        if (shared > bestFreeShared) {
          bestFree = slot;
          bestFreeShared = shared;
        }
      }
    }
    if (!reuse) return this.take(this.victim(running, adapter), 0);

    let source = -1;
    let sourceShared = bestFreeShared;
    for (const [slot, view] of running) {
      if (view.adapter !== adapter) continue;
      const shared = usable(prompt.length, Math.min(limit, commonPrefix(view.tokens, prompt)), view.tiled ?? 0);
      if (shared > sourceShared) {
        source = slot;
        sourceShared = shared;
      }
      // A running prompt that will soon hold a long shared prefix: wait for it rather than compute it twice.
      if (view.pendingPrompt && !points) {
        const coming = this.usable(
          prompt.length,
          Math.min(limit, commonPrefix(view.pendingPrompt, prompt)),
          this.tiledCells(view.pendingPrompt.length),
        );
        if (coming >= MIN_SHARED_PREFIX && coming > view.tokens.length && coming > bestFreeShared) return { kind: 'defer' };
      }
    }
    if (source >= 0 && (sourceShared >= MIN_SHARED_PREFIX || points !== undefined))
      return this.take(this.victim(running, adapter), sourceShared, source);
    if (bestFree >= 0) return this.take(bestFree, bestFreeShared);
    return this.take(this.victim(running, adapter), 0);
  }

  /**
   * The free slot to overwrite. llama.cpp computes each run of consecutive sequence ids of a batch
   * in a separate pass over the weights, so the first concern is to keep the running slots in as
   * few runs as possible: a slot that fills a gap between running slots beats one that extends a
   * run, which beats one that starts a new run. Only slots of the same adapter count, since a step
   * decodes one adapter's sequences; a new run beside other adapters' runs starts in the middle of
   * the widest stretch of free slots, leaving every run room to grow. Among equals, a slot holding
   * no cached prompt, then the one released longest ago, so that recent prompts stay cached for a
   * client that comes back.
   */
  private victim(running: ReadonlyMap<number, SlotView>, adapter?: string): number {
    const same = new Set<number>();
    let others = false;
    for (const [slot, view] of running) {
      if (view.adapter === adapter) same.add(slot);
      else others = true;
    }
    let best = -1;
    let bestKey: number[] = [];
    for (const [slot, { tokens }] of this.free) {
      const runsAdded = 1 - (same.has(slot - 1) ? 1 : 0) - (same.has(slot + 1) ? 1 : 0);
      const key = [runsAdded, others ? -this.room(slot, running) : 0, tokens.length > 0 ? 1 : 0, this.releasedAt.get(slot) ?? 0];
      if (best < 0 || lexicographicallyLess(key, bestKey)) {
        best = slot;
        bestKey = key;
      }
    }
    return best;
  }

  /** Free slots from `slot` to the nearest running slot (or the end of the table), the nearer side. */
  private room(slot: number, running: ReadonlyMap<number, unknown>): number {
    let left = 0;
    while (slot - left - 1 >= 0 && !running.has(slot - left - 1)) left++;
    let right = 0;
    while (slot + right + 1 < this.capacity && !running.has(slot + right + 1)) right++;
    return Math.min(left, right);
  }

  private take(slot: number, reuse: number, copyFrom?: number): Placement {
    this.free.delete(slot);
    return copyFrom === undefined ? { kind: 'place', slot, reuse } : { kind: 'place', slot, reuse, copyFrom };
  }

  /** A slot becomes free, its cells still holding `tokens` computed under `adapter`, the first `tiled` by the tiled kernel. */
  release(slot: number, tokens: number[], adapter?: string, tiled = 0): void {
    this.free.set(slot, this.prefixCaching ? { tokens, adapter, tiled } : { tokens: [] });
    this.releasedAt.set(slot, ++this.releases);
  }

  /** Prompts cached under `adapter` are of no use any more (it was unloaded). */
  forgetAdapter(adapter: string): void {
    for (const [slot, cached] of this.free) if (cached.adapter === adapter) this.free.set(slot, { tokens: [] });
  }

  /** Cached cells of a free slot are gone (engine reset). */
  forgetAll(): void {
    for (const slot of this.free.keys()) this.free.set(slot, { tokens: [] });
  }
}

function usableAt(points: readonly ReusePoint[], shared: number, tiled: number): number {
  let best = 0;
  for (const point of points) if (point.at <= shared && (!point.tiledOnly || point.at <= tiled) && point.at > best) best = point.at;
  return best;
}

function lexicographicallyLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
