// Seeded pseudo-random numbers: one independent stream per request, so a seed gives the same
// draws whatever else shares the batch.

const MASK64 = (1n << 64n) - 1n;

function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/** xoshiro128** seeded from a 64-bit integer through splitmix64. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: bigint | number) {
    const state = BigInt.asUintN(64, typeof seed === 'bigint' ? seed : BigInt(Math.trunc(seed)));
    const [next, a] = splitmix64(state);
    const [, b] = splitmix64(next);
    this.s0 = Number(a & 0xffffffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffffffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh random seed, below 2^53 so that any JSON client reads the echoed value exactly. */
export function randomSeed(): bigint {
  const high = Math.floor(Math.random() * 2 ** 21);
  const low = Math.floor(Math.random() * 2 ** 32);
  return BigInt(high) * 4294967296n + BigInt(low);
}

/** A seed as a JSON response shows it: a number when a double holds it exactly, else a bigint. */
export function seedJson(seed: bigint): number | bigint {
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}
