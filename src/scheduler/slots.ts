// Sequence slots and the prompt prefixes their KV cells still hold. A new request takes the free
// slot whose cached tokens share the longest prefix with its prompt; when a busier slot holds a much
// longer match, its cells are copied instead of recomputing the shared prefix.

/** Below this many shared tokens a copy of another slot's cells is not worth it. */
export const MIN_SHARED_PREFIX = 32;

export interface SlotView {
  /** Tokens whose KV cells are valid in this slot, in position order. */
  readonly tokens: ArrayLike<number>;
  /** For a running slot: the full prompt it will have cached once prefilled. */
  readonly pendingPrompt?: ArrayLike<number>;
}

export type Placement =
  | { kind: 'place'; slot: number; reuse: number; copyFrom?: number }
  | { kind: 'defer' }
  | { kind: 'full' };

export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SlotTable {
  /** Free slots and the tokens their cells still hold. */
  private readonly free = new Map<number, number[]>();

  constructor(capacity: number, private readonly prefixCaching: boolean) {
    for (let slot = 0; slot < capacity; slot++) this.free.set(slot, []);
  }

  get available(): number {
    return this.free.size;
  }

  /**
   * Where to run `prompt`. `running` describes the busy slots. The last prompt token is never
   * reused, so that its logits are computed. `allowReuse` is false when every prompt position
   * must be recomputed (prompt logprobs).
   */
  place(prompt: ArrayLike<number>, running: Map<number, SlotView>, allowReuse: boolean): Placement {
    if (this.free.size === 0) return { kind: 'full' };
    const limit = Math.max(0, prompt.length - 1);
    const reuse = this.prefixCaching && allowReuse;

    let bestFree = -1;
    let bestFreeShared = 0;
    if (reuse) {
      for (const [slot, tokens] of this.free) {
        const shared = Math.min(limit, commonPrefix(tokens, prompt));
        if (shared > bestFreeShared) {
          bestFree = slot;
          bestFreeShared = shared;
        }
      }
    }
    if (!reuse) return this.take(this.victim(), 0);

    let source = -1;
    let sourceShared = bestFreeShared;
    for (const [slot, view] of running) {
      const shared = Math.min(limit, commonPrefix(view.tokens, prompt));
      if (shared > sourceShared) {
        source = slot;
        sourceShared = shared;
      }
      // A running prompt that will soon hold a long shared prefix: wait for it rather than compute it twice.
      if (view.pendingPrompt) {
        const coming = Math.min(limit, commonPrefix(view.pendingPrompt, prompt));
        if (coming >= MIN_SHARED_PREFIX && coming > view.tokens.length && coming > bestFreeShared) return { kind: 'defer' };
      }
    }
    if (source >= 0 && sourceShared >= MIN_SHARED_PREFIX) return this.take(this.victim(), sourceShared, source);
    if (bestFree >= 0) return this.take(bestFree, bestFreeShared);
    return this.take(this.victim(), 0);
  }

  /**
   * The free slot to overwrite: the lowest-numbered one, so that running sequences keep consecutive
   * ids (llama.cpp computes each run of consecutive sequences in a separate pass).
   */
  private victim(): number {
    let best = -1;
    for (const slot of this.free.keys()) if (best < 0 || slot < best) best = slot;
    return best;
  }

  private take(slot: number, reuse: number, copyFrom?: number): Placement {
    this.free.delete(slot);
    return copyFrom === undefined ? { kind: 'place', slot, reuse } : { kind: 'place', slot, reuse, copyFrom };
  }

  /** A slot becomes free, its cells still holding `tokens`. */
  release(slot: number, tokens: number[]): void {
    this.free.set(slot, this.prefixCaching ? tokens : []);
  }

  /** Cached cells of a free slot are gone (engine reset). */
  forgetAll(): void {
    for (const slot of this.free.keys()) this.free.set(slot, []);
  }
}
