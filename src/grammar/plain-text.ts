// Whether plain text can kill a state: a byte automaton read over valid UTF-8 holding no byte a
// JSON string escapes (`"`, `\\`, control characters). A state no such text leads to DEAD lets a
// token walk take whole subtrees of such text (the inside of a string, even one whose pattern is
// an unanchored search, where no state loops on itself).
import { DEAD } from './automaton.js';
import { utf8Position } from './utf8.js';

/** Bytes of plain text inside a JSON string: none is `"`, `\\` or a control character (all else is). */
export const NOT_PLAIN = new Uint32Array([0xffffffff, 0x00000004, 0x10000000, 0, 0, 0, 0, 0]);

/**
 * Per UTF-8 position, pairs (byte, position after it): one plain byte valid there for each byte
 * class (and each position it leads to).
 */
export function plainRepresentatives(classOf: Uint8Array | undefined): Uint8Array[] {
  const lists: Uint8Array[] = [];
  for (let position = 0; position < 8; position++) {
    const list: number[] = [];
    const seen = new Set<number>();
    for (let byte = 0; byte < 256; byte++) {
      if (byte < 0x80 && (NOT_PLAIN[byte >>> 5] & (1 << (byte & 31))) !== 0) continue;
      const after = utf8Position(position, byte);
      if (after < 0) continue;
      const key = (classOf ? classOf[byte] : byte) * 8 + after;
      if (seen.has(key)) continue;
      seen.add(key);
      list.push(byte, after);
    }
    lists.push(Uint8Array.from(list));
  }
  return lists;
}

/**
 * Explores the states plain text reaches from `start` (at most `limit` of them, with their UTF-8
 * position). Returns the states explored when none dies, or undefined when one does (or the limit
 * is passed). `known(state)` short-cuts states already proven (true) or refuted (false).
 */
export function explorePlainText(
  next: (state: number, byte: number) => number,
  representatives: readonly Uint8Array[],
  start: number,
  limit: number,
  known: (state: number) => boolean | undefined,
): number[] | undefined {
  const seen = new Set<number>();
  const pending: number[] = [start, 0];
  const explored: number[] = [];
  while (pending.length > 0) {
    const position = pending.pop()!;
    const from = pending.pop()!;
    const key = from * 8 + position;
    if (seen.has(key)) continue;
    seen.add(key);
    explored.push(from);
    if (seen.size > limit) return undefined;
    const bytes = representatives[position];
    for (let i = 0; i < bytes.length; i += 2) {
      const to = next(from, bytes[i]);
      if (to === DEAD) return undefined;
      const after = bytes[i + 1];
      if (after === 0) {
        const memo = known(to);
        if (memo === true) continue;
        if (memo === false) return undefined;
      }
      pending.push(to, after);
    }
  }
  return explored;
}
