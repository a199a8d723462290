// Sets of small integers, each stored once and named by a dense id: the identity of DFA states.
// Open addressing over a hash of the members; the members live in one growing pool.

export class InternedSets {
  private pool = new Int32Array(1024);
  private poolLength = 0;
  private offsets = new Int32Array(64);
  private hashes = new Int32Array(64);
  private slots = new Int32Array(128).fill(-1);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The members of set `id`, ascending. The view must not be written to. */
  members(id: number): Int32Array {
    return this.pool.subarray(this.offsets[id], this.offsets[id + 1]);
  }

  /** The id of the set items[0..length) (sorted, distinct); a set not stored yet gets the next id. */
  intern(items: Int32Array, length: number): number {
    const hash = hashOf(items, length);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const id = this.slots[slot];
      if (id < 0) break;
      if (this.hashes[id] === hash && this.equals(id, items, length)) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.store(items, length, hash);
    this.slots[slot] = id;
    if (2 * this.count > this.slots.length) this.rehash();
    return id;
  }

  private equals(id: number, items: Int32Array, length: number): boolean {
    const from = this.offsets[id];
    if (this.offsets[id + 1] - from !== length) return false;
    for (let i = 0; i < length; i++) if (this.pool[from + i] !== items[i]) return false;
    return true;
  }

  private store(items: Int32Array, length: number, hash: number): number {
    const id = this.count++;
    if (this.count + 1 > this.offsets.length) {
      this.offsets = grown(this.offsets, 2 * this.offsets.length);
      this.hashes = grown(this.hashes, 2 * this.hashes.length);
    }
    if (this.poolLength + length > this.pool.length) this.pool = grown(this.pool, Math.max(2 * this.pool.length, this.poolLength + length));
    this.pool.set(items.subarray(0, length), this.poolLength);
    this.poolLength += length;
    this.offsets[id + 1] = this.poolLength;
    this.hashes[id] = hash;
    return id;
  }

  private rehash(): void {
    this.slots = new Int32Array(2 * this.slots.length).fill(-1);
    const mask = this.slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id] & mask;
      while (this.slots[slot] >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = id;
    }
  }
}

function hashOf(items: Int32Array, length: number): number {
  let hash = 0x811c9dc5 ^ length;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ items[i], 0x01000193);
  return (hash ^ (hash >>> 15)) & 0x7fffffff;
}

export function grown(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(capacity);
  larger.set(array);
  return larger;
}

export function grownBytes(array: Uint8Array, capacity: number): Uint8Array<ArrayBuffer> {
  const larger = new Uint8Array(capacity);
  larger.set(array);
  return larger;
}
