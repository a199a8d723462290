// Sets of Unicode scalar values as sorted, disjoint, non-adjacent inclusive ranges. Surrogates
// (U+D800-U+DFFF) are never members: they have no UTF-8 encoding, so no text can contain them.

export type CodePointRange = readonly [lo: number, hi: number];
export type CodePointSet = readonly CodePointRange[];

const MAX_CODE_POINT = 0x10ffff;
const SURROGATE_LO = 0xd800;
const SURROGATE_HI = 0xdfff;

export function isSurrogate(codePoint: number): boolean {
  return codePoint >= SURROGATE_LO && codePoint <= SURROGATE_HI;
}

export function singleton(codePoint: number): CodePointSet {
  return normalize([[codePoint, codePoint]]);
}

/** Any ranges, in any order, overlapping or not: sorted, merged, surrogates removed. */
export function normalize(ranges: readonly CodePointRange[]): CodePointSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return withoutSurrogates(merged);
}

function withoutSurrogates(ranges: readonly CodePointRange[]): CodePointSet {
  const result: CodePointRange[] = [];
  for (const [lo, hi] of ranges) {
    if (hi < SURROGATE_LO || lo > SURROGATE_HI) result.push([lo, hi]);
    else {
      if (lo < SURROGATE_LO) result.push([lo, SURROGATE_LO - 1]);
      if (hi > SURROGATE_HI) result.push([SURROGATE_HI + 1, hi]);
    }
  }
  return result;
}

function union(...sets: CodePointSet[]): CodePointSet {
  return normalize(sets.flat());
}

/** Every scalar value not in `set`. */
export function complement(set: CodePointSet): CodePointSet {
  const result: CodePointRange[] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) result.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return withoutSurrogates(result);
}

export function intersection(a: CodePointSet, b: CodePointSet): CodePointSet {
  return complement(union(complement(a), complement(b)));
}

export function difference(a: CodePointSet, b: CodePointSet): CodePointSet {
  return intersection(a, complement(b));
}
