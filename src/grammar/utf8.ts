// Validating UTF-8 one byte at a time.

/**
 * UTF-8 positions: 0 between characters; 1-3 that many continuation bytes (80-BF) to go; 4 after
 * E0 (A0-BF then one); 5 after ED (80-9F then one); 6 after F0 (90-BF then two); 7 after F4
 * (80-8F then two). -1 for a byte not valid there.
 */
export function utf8Position(position: number, byte: number): number {
  if (position === 0) {
    if (byte < 0x80) return 0;
    if (byte >= 0xc2 && byte <= 0xdf) return 1;
    if (byte === 0xe0) return 4;
    if (byte === 0xed) return 5;
    if (byte >= 0xe1 && byte <= 0xef) return 2;
    if (byte === 0xf0) return 6;
    if (byte >= 0xf1 && byte <= 0xf3) return 3;
    if (byte === 0xf4) return 7;
    return -1;
  }
  if (position <= 3) return byte >= 0x80 && byte <= 0xbf ? position - 1 : -1;
  if (position === 4) return byte >= 0xa0 && byte <= 0xbf ? 1 : -1;
  if (position === 5) return byte >= 0x80 && byte <= 0x9f ? 1 : -1;
  if (position === 6) return byte >= 0x90 && byte <= 0xbf ? 2 : -1;
  return byte >= 0x80 && byte <= 0x8f ? 2 : -1;
}

/** The bytes a valid character needs after lead byte `lead`: [lo, hi] per position (none for a lead that is not one). */
export function continuationRanges(lead: number): [number, number][] {
  const ranges: [number, number][] = [];
  let position = utf8Position(0, lead);
  while (position > 0) {
    let lo = 0x80;
    while (utf8Position(position, lo) < 0) lo++;
    let hi = lo;
    while (hi < 0xbf && utf8Position(position, hi + 1) >= 0) hi++;
    ranges.push([lo, hi]);
    position = utf8Position(position, lo);
  }
  return ranges;
}
