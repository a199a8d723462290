// A real vocabulary as the checker uses it: the grammar's token trie, and texts cut into tokens
// whose bytes are exactly the text's, as a model would have to write them.
import { LlamaModel } from '../engine/llama/model.js';
import { TokenTrie } from '../grammar/token-trie.js';

export interface CheckVocabulary {
  readonly trie: TokenTrie;
  /** Token ids whose bytes, end to end, are the UTF-8 bytes of `text`. */
  tokens(text: string): number[];
  /** Texts whose tokenizer output had to be cut again (see `exactTokens`). */
  readonly retokenized: number;
}

export function loadCheckVocabulary(path: string): CheckVocabulary {
  const model = LlamaModel.load(path, { vocabOnly: true });
  const vocabulary = model.vocabulary;
  const bytes: (Uint8Array | null)[] = [];
  for (let id = 0; id < vocabulary.vocabSize; id++) bytes.push(vocabulary.isSpecial(id) ? null : vocabulary.tokenBytes(id));
  const trie = new TokenTrie(bytes);
  const tokenizer = new ExactTokenizer(trie, (text) => Array.from(vocabulary.tokenize(text, false)));
  // The model handle stays open for the process's life: the tokenizer needs it.
  return tokenizer;
}

class ExactTokenizer implements CheckVocabulary {
  retokenized = 0;
  private byBytes: Map<string, number> | undefined;

  constructor(
    readonly trie: TokenTrie,
    private readonly tokenize: (text: string) => number[],
  ) {}

  /**
   * The tokenizer's ids when their bytes are the text's. SentencePiece vocabularies prepend a space
   * (generated text has none): the first token is then replaced by the tokens of its bytes without
   * it. Any other difference (a special token's name in the text) falls back to longest-match cuts.
   */
  tokens(text: string): number[] {
    const ids = this.tokenize(text);
    const wanted = Buffer.from(text, 'utf8');
    const got = Buffer.concat(ids.map((id) => this.trie.tokenBytes(id)));
    if (got.equals(wanted)) return ids;
    this.retokenized++;
    if (ids.length > 0 && got.length === wanted.length + 1 && got[0] === 0x20 && got.subarray(1).equals(wanted)) {
      const first = this.longestMatches(this.trie.tokenBytes(ids[0]).subarray(1));
      if (first) return [...first, ...ids.slice(1)];
    }
    return this.longestMatches(wanted) ?? ids;
  }

  /** Greedy longest-match tokens of `bytes`, or undefined when some byte is in no token. */
  private longestMatches(bytes: Uint8Array): number[] | undefined {
    const byBytes = this.tokenIdsByBytes();
    const ids: number[] = [];
    let at = 0;
    while (at < bytes.length) {
      let found = false;
      for (let length = Math.min(this.trie.maxDepth, bytes.length - at); length > 0; length--) {
        const id = byBytes.get(Buffer.from(bytes.subarray(at, at + length)).toString('latin1'));
        if (id === undefined) continue;
        ids.push(id);
        at += length;
        found = true;
        break;
      }
      if (!found) return undefined;
    }
    return ids;
  }

  private tokenIdsByBytes(): Map<string, number> {
    if (this.byBytes) return this.byBytes;
    this.byBytes = new Map();
    for (let id = 0; id < this.trie.vocabSize; id++) {
      const key = Buffer.from(this.trie.tokenBytes(id)).toString('latin1');
      if (key.length > 0 && !this.byBytes.has(key)) this.byBytes.set(key, id);
    }
    return this.byBytes;
  }
}
