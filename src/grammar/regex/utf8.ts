// Code-point ranges -> sequences of byte ranges that accept exactly the UTF-8 encodings of the
// range's scalar values: no surrogates, no overlong forms. This is the classic construction (as in
// RE2 and Rust's regex-syntax): split the range until its first and last code points encode to the
// same length and every byte position spans a full block, then read off one byte range per position.

/** Byte ranges, one per byte of the encoding: [lo0, hi0, lo1, hi1, ...]. */
export type ByteRangeSequence = readonly number[];

const MAX_SCALAR_OF_LENGTH = [0x7f, 0x7ff, 0xffff];

/** The sequences, in ascending code-point order; their byte strings are disjoint. */
export function utf8Sequences(lo: number, hi: number): ByteRangeSequence[] {
  const sequences: ByteRangeSequence[] = [];
  const pending: [number, number][] = [[lo, hi]];
  while (pending.length > 0) {
    const [start, last] = pending.pop()!;
    let end = last;
    for (;;) {
      if (start < 0xe000 && end > 0xd7ff) {
        pending.push([0xe000, end]);
        end = 0xd7ff;
        continue;
      }
      if (start > end) break;
      const lengthBoundary = MAX_SCALAR_OF_LENGTH.find((max) => start <= max && max < end);
      if (lengthBoundary !== undefined) {
        pending.push([lengthBoundary + 1, end]);
        end = lengthBoundary;
        continue;
      }
      const split = splitAtContinuationBlock(start, end);
      if (split !== undefined) {
        pending.push([split + 1, end]);
        end = split;
        continue;
      }
      const first = encodeUtf8(start);
      const last = encodeUtf8(end);
      sequences.push(first.flatMap((byte, i) => [byte, last[i]]));
      break;
    }
  }
  return sequences;
}

/**
 * Where [start, end] must be cut so that each part covers whole blocks of trailing continuation
 * bytes: the last code point of the lower part, or undefined when no cut is needed.
 */
function splitAtContinuationBlock(start: number, end: number): number | undefined {
  for (let i = 1; i < 4; i++) {
    const mask = (1 << (6 * i)) - 1;
    if ((start & ~mask) !== (end & ~mask)) {
      if ((start & mask) !== 0) return start | mask;
      if ((end & mask) !== mask) return (end & ~mask) - 1;
    }
  }
  return undefined;
}

export function encodeUtf8(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}
