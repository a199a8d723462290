// Builds the flat layout of the vocabulary trie (see TokenTrie) from each token's bytes.
import { utf8Position } from './utf8.js';

/** Nodes whose subtree has at least this many nodes get the set of bytes below them. */
const SUMMARY_MIN_SUBTREE = 8;

/** In `TrieLayout.nodes`: the byte on the edge into the node, its depth, and whether it has a byte set. */
export const EDGE_BYTE_MASK = 0xff;
export const DEPTH_SHIFT = 8;
export const DEPTH_MASK = 0xffff;
export const SUMMARIZED_BIT = 1 << 24;

export interface TrieLayout {
  nodeCount: number;
  maxDepth: number;
  /** Per node: edge byte | depth << DEPTH_SHIFT | SUMMARIZED_BIT when it has a byte set. One load per step. */
  nodes: Uint32Array;
  subtreeEnd: Uint32Array;
  tokenStart: Uint32Array;
  tokenIds: Uint32Array;
  /** Per node, the index of its byte set in `bytesBelow`, or -1 for a small subtree (empty when no node has one). */
  summary: Int32Array;
  /** 8 words (256 bits) per summarized node: every byte on an edge strictly below it. */
  bytesBelow: Uint32Array;
  /**
   * Per summarized node, when every path below it continues valid UTF-8 (whole characters after the
   * one in progress, the last possibly cut short by the token's end): 1 + 2 * (bytes of the
   * character in progress read at the node: 0 at a boundary, else 1 to 3); 0 otherwise.
   */
  wholeChars: Uint8Array;
  /** Per summarized node inside a character: the character's lead byte. */
  leadByte: Uint8Array;
  /** All tokens' bytes, token `id` at `bytes[bytesStart[id] .. bytesStart[id + 1])`. */
  bytes: Uint8Array;
  bytesStart: Uint32Array;
}

/** With `byteSets` false no node gets a byte set (to measure what they save). */
export function buildTrieLayout(tokenBytes: readonly (Uint8Array | null)[], byteSets = true): TrieLayout {
  const { bytes, bytesStart } = concatenate(tokenBytes);
  const order = sortedTokens(bytes, bytesStart);
  const capacity = bytes.length + 1;
  const edgeByte = new Uint8Array(capacity);
  const depth = new Uint16Array(capacity);
  const subtreeEnd = new Uint32Array(capacity);
  const tokensAt = new Uint32Array(capacity);
  // `path[d]` is the open node at depth d on the path to the previous token.
  const path: number[] = [0];
  let nodeCount = 1;
  let maxDepth = 0;
  let previous = -1;
  for (const id of order) {
    const start = bytesStart[id];
    const length = bytesStart[id + 1] - start;
    if (length > 0xffff) throw new Error(`token ${id} is ${length} bytes long`);
    const shared = previous < 0 ? 0 : commonPrefix(bytes, bytesStart[previous], bytesStart[previous + 1], start, start + length);
    for (let d = path.length - 1; d > shared; d--) subtreeEnd[path[d]] = nodeCount;
    path.length = shared + 1;
    for (let d = shared + 1; d <= length; d++) {
      edgeByte[nodeCount] = bytes[start + d - 1];
      depth[nodeCount] = d;
      path.push(nodeCount++);
    }
    tokensAt[path[length]]++;
    maxDepth = Math.max(maxDepth, length);
    previous = id;
  }
  for (let d = path.length - 1; d >= 0; d--) subtreeEnd[path[d]] = nodeCount;

  // Tokens come in sorted order, which is the pre-order of the nodes they end at.
  const tokenStart = new Uint32Array(nodeCount + 1);
  for (let i = 0; i < nodeCount; i++) tokenStart[i + 1] = tokenStart[i] + tokensAt[i];
  const tree = { nodeCount, maxDepth, edgeByte, depth, subtreeEnd: subtreeEnd.slice(0, nodeCount) };
  const { summary, bytesBelow } = summarize(tree, byteSets ? SUMMARY_MIN_SUBTREE : Infinity);
  const nodes = new Uint32Array(nodeCount);
  for (let node = 0; node < nodeCount; node++) {
    nodes[node] = edgeByte[node] | (depth[node] << DEPTH_SHIFT) | (summary[node] >= 0 ? SUMMARIZED_BIT : 0);
  }
  const tokenIds = Uint32Array.from(order);
  const kept = bytesBelow.length > 0 ? summary : new Int32Array(0);
  const { wholeChars, leadByte } = wholeCharacterSubtrees(tree, summary, bytesBelow.length / 8);
  return {
    nodeCount,
    maxDepth,
    nodes,
    subtreeEnd: tree.subtreeEnd,
    tokenStart,
    tokenIds,
    summary: kept,
    bytesBelow,
    wholeChars,
    leadByte,
    bytes,
    bytesStart,
  };
}

interface Tree {
  nodeCount: number;
  maxDepth: number;
  edgeByte: Uint8Array;
  depth: Uint16Array;
  subtreeEnd: Uint32Array;
}

/**
 * The byte sets below the nodes of large subtrees. Subtree sizes only grow towards the root, so
 * the parent of a summarized node is summarized too (or is the root, which needs no summary).
 */
function summarize(tree: Tree, minSubtree: number): Pick<TrieLayout, 'summary' | 'bytesBelow'> {
  const { nodeCount, edgeByte, depth, subtreeEnd } = tree;
  const summary = new Int32Array(nodeCount).fill(-1);
  let count = 0;
  for (let node = 1; node < nodeCount; node++) if (subtreeEnd[node] - node >= minSubtree) summary[node] = count++;
  const bytesBelow = new Uint32Array(count * 8);
  const parentSummary = new Int32Array(count).fill(-1);
  const onPath = new Uint32Array(tree.maxDepth + 1);
  for (let node = 1; node < nodeCount; node++) {
    const d = depth[node];
    onPath[d] = node;
    let ancestor = d - 1;
    while (ancestor >= 1 && summary[onPath[ancestor]] < 0) ancestor--;
    if (ancestor < 1) continue;
    const into = summary[onPath[ancestor]] * 8;
    bytesBelow[into + (edgeByte[node] >>> 5)] |= 1 << (edgeByte[node] & 31);
    if (summary[node] >= 0) parentSummary[summary[node]] = summary[onPath[ancestor]];
  }
  // Children are summarized after their parents: fold the sets upwards in reverse.
  for (let s = count - 1; s >= 0; s--) {
    const parent = parentSummary[s];
    if (parent < 0) continue;
    for (let w = 0; w < 8; w++) bytesBelow[parent * 8 + w] |= bytesBelow[s * 8 + w];
  }
  return { summary, bytesBelow };
}

/** UTF-8 decoding after a byte: a position of `utf8Position` (0 at a character boundary), or INVALID. */
const BOUNDARY = 0;
const INVALID = 255;

function wholeCharacterSubtrees(tree: Tree, summary: Int32Array, count: number): { wholeChars: Uint8Array; leadByte: Uint8Array } {
  const { nodeCount, edgeByte, depth, subtreeEnd } = tree;
  const decoding = new Uint8Array(nodeCount);
  // Bytes of the character in progress read at the node, and its lead byte.
  const offset = new Uint8Array(nodeCount);
  const lead = new Uint8Array(nodeCount);
  const onPath = new Uint32Array(tree.maxDepth + 1);
  // invalidBefore[i]: how many of nodes 0..i-1 decode as INVALID.
  const invalidBefore = new Uint32Array(nodeCount + 1);
  for (let node = 1; node < nodeCount; node++) {
    const d = depth[node];
    onPath[d] = node;
    const parent = d === 1 ? -1 : onPath[d - 1];
    const parentState = parent < 0 ? BOUNDARY : decoding[parent];
    const after = parentState === INVALID ? -1 : utf8Position(parentState, edgeByte[node]);
    const state = after < 0 ? INVALID : after;
    decoding[node] = state;
    if (state !== BOUNDARY && state !== INVALID) {
      const starts = parentState === BOUNDARY;
      offset[node] = starts ? 1 : offset[parent] + 1;
      lead[node] = starts ? edgeByte[node] : lead[parent];
    }
  }
  for (let node = 0; node < nodeCount; node++) invalidBefore[node + 1] = invalidBefore[node] + (decoding[node] === INVALID ? 1 : 0);
  const wholeChars = new Uint8Array(count);
  const leadByte = new Uint8Array(count);
  for (let node = 1; node < nodeCount; node++) {
    const s = summary[node];
    if (s < 0 || decoding[node] === INVALID) continue;
    if (invalidBefore[subtreeEnd[node]] - invalidBefore[node + 1] !== 0) continue;
    wholeChars[s] = 1 + 2 * offset[node];
    leadByte[s] = lead[node];
  }
  return { wholeChars, leadByte };
}

/** All tokens' bytes in one array; null and empty tokens get no bytes. */
function concatenate(tokenBytes: readonly (Uint8Array | null)[]): { bytes: Uint8Array; bytesStart: Uint32Array } {
  const bytesStart = new Uint32Array(tokenBytes.length + 1);
  for (let id = 0; id < tokenBytes.length; id++) bytesStart[id + 1] = bytesStart[id] + (tokenBytes[id]?.length ?? 0);
  const bytes = new Uint8Array(bytesStart[tokenBytes.length]);
  for (let id = 0; id < tokenBytes.length; id++) {
    const token = tokenBytes[id];
    if (token) bytes.set(token, bytesStart[id]);
  }
  return { bytes, bytesStart };
}

/** Ids of the non-empty tokens, sorted by their bytes (ties by id). */
function sortedTokens(bytes: Uint8Array, bytesStart: Uint32Array): number[] {
  const ids: number[] = [];
  for (let id = 0; id + 1 < bytesStart.length; id++) if (bytesStart[id + 1] > bytesStart[id]) ids.push(id);
  return ids.sort((a, b) => {
    const aStart = bytesStart[a];
    const bStart = bytesStart[b];
    const aLength = bytesStart[a + 1] - aStart;
    const bLength = bytesStart[b + 1] - bStart;
    const length = Math.min(aLength, bLength);
    for (let k = 0; k < length; k++) {
      const difference = bytes[aStart + k] - bytes[bStart + k];
      if (difference !== 0) return difference;
    }
    return aLength - bLength || a - b;
  });
}

function commonPrefix(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  let k = 0;
  while (k < length && bytes[aStart + k] === bytes[bStart + k]) k++;
  return k;
}
