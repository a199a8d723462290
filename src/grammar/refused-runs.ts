// The tokens a trie walk refused, as runs of the trie's token order (a dead subtree's tokens are one
// run), turned into a mask at the end: the cost is in the smaller side, allowed or refused.
import type { TokenMask } from './token-mask.js';

export class RefusedRuns {
  /** [start, end) pairs of positions in the trie's token order, increasing, never adjacent. */
  private ends: Uint32Array = new Uint32Array(1024);
  private used = 0;

  clear(): void {
    this.used = 0;
  }

  add(from: number, to: number): void {
    if (from === to) return;
    if (this.used > 0 && this.ends[this.used - 1] === from) {
      this.ends[this.used - 1] = to;
      return;
    }
    if (this.used + 2 > this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.used++] = from;
    this.ends[this.used++] = to;
  }

  /**
   * Fills `mask` with the tokens of `tokenIds` (the trie's token order) outside the runs: from
   * `everyToken` less the refused ones when those are fewer, else token by token. Returns how many.
   */
  fillAllowed(mask: TokenMask, tokenIds: Uint32Array, everyToken: TokenMask): number {
    const { ends, used } = this;
    const words = mask.words;
    let refused = 0;
    for (let r = 0; r < used; r += 2) refused += ends[r + 1] - ends[r];
    const allowed = tokenIds.length - refused;
    if (allowed >= refused) {
      mask.copyFrom(everyToken);
      for (let r = 0; r < used; r += 2) {
        for (let k = ends[r], end = ends[r + 1]; k < end; k++) {
          const id = tokenIds[k];
          words[id >>> 5] &= ~(1 << (id & 31));
        }
      }
    } else {
      mask.clear();
      for (let r = 0; r <= used; r += 2) {
        const from = r === 0 ? 0 : ends[r - 1];
        const to = r < used ? ends[r] : tokenIds.length;
        for (let k = from; k < to; k++) {
          const id = tokenIds[k];
          words[id >>> 5] |= 1 << (id & 31);
        }
      }
    }
    return allowed;
  }

  get memoryBytes(): number {
    return this.ends.byteLength;
  }
}
