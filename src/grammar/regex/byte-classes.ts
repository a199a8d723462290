// Bytes the NFA never tells apart behave alike in every DFA state, so the transition table needs
// one column per class of such bytes instead of 256.
import { BYTE_STATE, type Nfa } from './nfa.js';

export interface ByteClasses {
  readonly count: number;
  /** The class of each byte 0-255. */
  readonly classOf: Uint8Array;
  /** One byte of each class, to step the NFA with. */
  readonly representative: Uint8Array;
}

export function byteClasses(nfa: Nfa): ByteClasses {
  const startsClass = new Uint8Array(257);
  startsClass[0] = 1;
  for (let s = 0; s < nfa.stateCount; s++) {
    if (nfa.kind[s] !== BYTE_STATE) continue;
    for (let e = nfa.edgeStart[s]; e < nfa.edgeStart[s + 1]; e += 3) {
      startsClass[nfa.edges[e]] = 1;
      startsClass[nfa.edges[e + 1] + 1] = 1;
    }
  }
  const classOf = new Uint8Array(256);
  const representative: number[] = [];
  for (let byte = 0; byte < 256; byte++) {
    if (startsClass[byte]) representative.push(byte);
    classOf[byte] = representative.length - 1;
  }
  return { count: representative.length, classOf, representative: Uint8Array.from(representative) };
}

/** The coarsest classes of bytes that every one of the given partitions puts together. */
export function refineClasses(partitions: readonly Uint8Array[]): ByteClasses {
  let classOf = new Uint8Array(256);
  let representative = [0];
  for (const partition of partitions) {
    const refined = new Uint8Array(256);
    const ids = new Map<number, number>();
    representative = [];
    for (let byte = 0; byte < 256; byte++) {
      const key = classOf[byte] * 256 + partition[byte];
      let id = ids.get(key);
      if (id === undefined) {
        id = ids.size;
        ids.set(key, id);
        representative.push(byte);
      }
      refined[byte] = id;
    }
    classOf = refined;
  }
  return { classOf, representative: Uint8Array.from(representative), count: representative.length };
}
