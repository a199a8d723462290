// The vocabulary as a byte trie, walked once per mask: the cost is in the tokens that can follow
// from a state, not in the vocabulary's size.
//
// Layout: nodes in depth-first pre-order (children by increasing byte), node 0 the root. `nodes[i]`
// packs the byte on the edge into node i and its depth (the parent's state is the one on the walk's
// stack one level up); `subtreeEnd[i]` is the first node after its subtree, so a dead state skips
// the subtree in one step. The tokens whose bytes end at node i are
// `tokenIds[tokenStart[i] .. tokenStart[i + 1])`: several tokens may share the same bytes, and a
// subtree's tokens are one contiguous run of `tokenIds`, so a walk only records the runs it refuses.
// Nodes of large subtrees also know the set of bytes below them: when all of them lead the state
// back to itself, the whole subtree is allowed without being walked. They also know whether they
// sit at a character boundary with only valid UTF-8 below: then a state that every character of
// the subtree's lead bytes leads back to (inside a JSON string, say) takes the subtree whole too.
import { DEAD, type ByteAutomaton } from './automaton.js';
import { TokenMask } from './token-mask.js';
import { buildTrieLayout, DEPTH_MASK, DEPTH_SHIFT, EDGE_BYTE_MASK, SUMMARIZED_BIT } from './trie-layout.js';
import { SelfLoopBytes } from './self-loops.js';
import { RefusedRuns } from './refused-runs.js';

export interface TokenTrieOptions {
  /** Give large subtrees the set of bytes below them, so that the walk can allow them whole (default true). */
  subtreeByteSets?: boolean;
}

export class TokenTrie {
  /** Number of token ids, allowed or not: the size of a mask. */
  readonly vocabSize: number;
  readonly nodeCount: number;
  /** The longest token, in bytes. */
  readonly maxDepth: number;
  readonly nodes: Uint32Array;
  readonly subtreeEnd: Uint32Array;
  readonly tokenStart: Uint32Array;
  readonly tokenIds: Uint32Array;
  private readonly summary: Int32Array;
  private readonly bytesBelow: Uint32Array;
  private readonly wholeChars: Uint8Array;
  private readonly leadByte: Uint8Array;
  private readonly bytes: Uint8Array;
  private readonly bytesStart: Uint32Array;
  /** Every token with bytes: the mask of an automaton that refuses nothing. */
  private readonly everyToken: TokenMask;
  /** The automaton state at each depth of the path being walked. */
  private readonly states: Int32Array;
  private readonly refused = new RefusedRuns();
  private readonly selfLoops = new SelfLoopBytes();

  /** `tokenBytes[id]`: the bytes of token `id`; null or empty for a token the grammar never allows. */
  constructor(tokenBytes: readonly (Uint8Array | null)[], options: TokenTrieOptions = {}) {
    const layout = buildTrieLayout(tokenBytes, options.subtreeByteSets ?? true);
    this.vocabSize = tokenBytes.length;
    this.nodeCount = layout.nodeCount;
    this.maxDepth = layout.maxDepth;
    this.nodes = layout.nodes;
    this.subtreeEnd = layout.subtreeEnd;
    this.tokenStart = layout.tokenStart;
    this.tokenIds = layout.tokenIds;
    this.summary = layout.summary;
    this.bytesBelow = layout.bytesBelow;
    this.wholeChars = layout.wholeChars;
    this.leadByte = layout.leadByte;
    this.bytes = layout.bytes;
    this.bytesStart = layout.bytesStart;
    this.everyToken = new TokenMask(this.vocabSize);
    for (const id of this.tokenIds) this.everyToken.set(id);
    this.states = new Int32Array(this.maxDepth + 1);
  }

  /**
   * Whether the subtree of a summarized node can be allowed without walking it: every byte below
   * leads `next` (the node's state) back to itself or, for a subtree of valid UTF-8, every
   * character below leads the state at the start of the character in progress back to itself.
   */
  private takesWhole(next: number, depth: number, s: number): boolean {
    const whole = this.wholeChars[s];
    if (whole === 0) return this.selfLoops.covers(next, this.bytesBelow, s, false);
    const inProgress = whole >>> 1;
    // Plain text a state cannot die on is the cheaper proof (an automaton may know it per rule state).
    if (inProgress === 0)
      return this.selfLoops.plainTextSafe(next, this.bytesBelow, s) || this.selfLoops.covers(next, this.bytesBelow, s, true);
    // The character started `inProgress` bytes up: its start state is the path's state there.
    const start = this.states[depth - inProgress];
    return (
      this.selfLoops.plainTextSafe(start, this.bytesBelow, s) || this.selfLoops.coversFrom(start, this.leadByte[s], this.bytesBelow, s)
    );
  }

  edgeByte(node: number): number {
    return this.nodes[node] & EDGE_BYTE_MASK;
  }

  depth(node: number): number {
    return (this.nodes[node] >>> DEPTH_SHIFT) & DEPTH_MASK;
  }

  /** The bytes of token `id` (empty for a token the grammar never allows). */
  tokenBytes(id: number): Uint8Array {
    return this.bytes.subarray(this.bytesStart[id], this.bytesStart[id + 1]);
  }

  /** Bytes held by the trie's typed arrays, token bytes included. */
  get memoryBytes(): number {
    const arrays = [
      this.nodes,
      this.subtreeEnd,
      this.tokenStart,
      this.tokenIds,
      this.summary,
      this.bytesBelow,
      this.wholeChars,
      this.bytes,
      this.bytesStart,
      this.everyToken.words,
      this.states,
    ];
    return arrays.reduce((total, array) => total + array.byteLength, this.refused.memoryBytes);
  }

  /**
   * Fills `mask` with every token whose bytes, read from `state`, never reach DEAD (the token may
   * end in a non-accepting state: the match goes on with the next token). Returns how many.
   */
  allowedTokens(automaton: ByteAutomaton, state: number, mask: TokenMask): number {
    if (mask.size !== this.vocabSize) throw new Error(`mask of ${mask.size} tokens for a vocabulary of ${this.vocabSize}`);
    if (state === DEAD) {
      mask.clear();
      return 0;
    }
    const { nodes, subtreeEnd, tokenStart, summary, states, nodeCount, selfLoops, refused } = this;
    selfLoops.reset(automaton, this.maxDepth);
    refused.clear();
    states[0] = state;
    let node = 1;
    while (node < nodeCount) {
      const packed = nodes[node];
      const d = (packed >>> DEPTH_SHIFT) & DEPTH_MASK;
      const next = automaton.next(states[d - 1], packed & EDGE_BYTE_MASK);
      if (next === DEAD) {
        refused.add(tokenStart[node], tokenStart[subtreeEnd[node]]);
        node = subtreeEnd[node];
        continue;
      }
      if ((packed & SUMMARIZED_BIT) !== 0 && this.takesWhole(next, d, summary[node])) {
        node = subtreeEnd[node];
        continue;
      }
      states[d] = next;
      node++;
    }
    return refused.fillAllowed(mask, this.tokenIds, this.everyToken);
  }
}
