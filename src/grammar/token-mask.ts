// The set of tokens allowed at one decoding step, as a bitset over token ids.

export class TokenMask {
  /** Bit `id & 31` of word `id >>> 5` is set when token `id` is allowed. Bits past `size` stay clear. */
  readonly words: Uint32Array;

  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  clear(): void {
    this.words.fill(0);
  }

  set(id: number): void {
    this.words[id >>> 5] |= 1 << (id & 31);
  }

  has(id: number): boolean {
    return id >= 0 && id < this.size && (this.words[id >>> 5] & (1 << (id & 31))) !== 0;
  }

  copyFrom(other: TokenMask): void {
    if (other.size !== this.size) throw new Error(`mask sizes differ: ${other.size} and ${this.size}`);
    this.words.set(other.words);
  }

  count(): number {
    let total = 0;
    for (let w = 0; w < this.words.length; w++) total += bitCount(this.words[w]);
    return total;
  }

  /** Sets every disallowed token's logit to -Infinity; logits past the mask's size are disallowed. */
  applyTo(logits: Float32Array): void {
    const words = this.words;
    const length = logits.length;
    const wordCount = Math.min(words.length, Math.ceil(length / 32));
    let w = 0;
    while (w < wordCount) {
      const word = words[w];
      if (word === 0) {
        // A run of refused words: one fill.
        const runStart = w;
        while (w < wordCount && words[w] === 0) w++;
        logits.fill(-Infinity, runStart * 32, Math.min(w * 32, length));
        continue;
      }
      // Only the refused bits are visited, lowest first.
      let refused = ~word & (w * 32 + 32 <= length ? 0xffffffff : (1 << (length - w * 32)) - 1);
      while (refused !== 0) {
        const lowest = refused & -refused;
        logits[w * 32 + 31 - Math.clz32(lowest)] = -Infinity;
        refused ^= lowest;
      }
      w++;
    }
    if (wordCount * 32 < length) logits.fill(-Infinity, wordCount * 32);
  }
}

function bitCount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
