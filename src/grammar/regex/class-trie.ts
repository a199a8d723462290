// The byte states of a code-point set: a trie of its UTF-8 byte-range sequences whose equal
// suffixes are shared (all the continuation bytes of `.` end in one [80-BF] state, for instance).
// Built once per set and copied wherever the set occurs, toward the state that follows it.
import type { CodePointSet } from './code-point-set.js';
import { type ByteRangeSequence, utf8Sequences } from './utf8.js';

/** Whatever follows the set, in a trie's edges. */
export const NEXT = -1;

export interface ClassTrie {
  /**
   * Byte states as edge triples (lo, hi, target), a target being the index of another state or
   * NEXT. Every state comes after the states it leads to.
   */
  readonly states: readonly (readonly number[])[];
  /** The index of the first state. */
  readonly entry: number;
}

export function classTrie(set: CodePointSet): ClassTrie {
  const states: number[][] = [];
  const indexOfEdges = new Map<string, number>();
  const build = (sequences: readonly ByteRangeSequence[], depth: number): number => {
    const edges: number[] = [];
    for (let i = 0; i < sequences.length;) {
      const lo = sequences[i][2 * depth];
      const hi = sequences[i][2 * depth + 1];
      let j = i + 1;
      while (j < sequences.length && sequences[j][2 * depth] === lo && sequences[j][2 * depth + 1] === hi) j++;
      // A lead byte fixes the length of its encoding, so the sequences of a group end together.
      const target = sequences[i].length === 2 * (depth + 1) ? NEXT : build(sequences.slice(i, j), depth + 1);
      const last = edges.length - 3;
      if (last >= 0 && edges[last + 2] === target && edges[last + 1] + 1 === lo) edges[last + 1] = hi;
      else edges.push(lo, hi, target);
      i = j;
    }
    const key = edges.join(',');
    let index = indexOfEdges.get(key);
    if (index === undefined) {
      index = states.push(edges) - 1;
      indexOfEdges.set(key, index);
    }
    return index;
  };
  const entry = build(
    set.flatMap(([lo, hi]) => utf8Sequences(lo, hi)),
    0,
  );
  return { states, entry };
}
