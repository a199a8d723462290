// Where a long text can be cut so that tokenizing the pieces one by one gives exactly the tokens of
// the whole. llama.cpp's tokenizers cost more than linear time on long inputs (quadratic on
// SentencePiece byte fallback), so long texts are tokenized in pieces of bounded length.
//
// A cut is exact when no token of the vocabulary can span it and the tokenizer's treatment of a
// text's start and end does not differ there:
// - SentencePiece (llama.cpp "spm"): merges only ever form vocabulary tokens, so a cut between two
//   characters that appear next to each other in no token's text is never crossed by a merge. A
//   piece gets the space prefix (U+2581) every text gets: a cut just before a space lets the piece
//   start after that space (the prefix stands for it); any other cut needs the prefix to stay a
//   token of its own, whose tokens are then dropped.
// - Byte-level BPE: the pre-tokenizer regexes split before a space that follows a non-space, so a cut
//   there is a pre-token boundary; inside a run of caseless letters (CJK...) or of symbols a cut is
//   exact when the two bytes around it are adjacent in no token.
// Cuts never fall inside, just after or just before the text of a special token.

export interface VocabularyFacts {
  kind: 'spm' | 'bpe';
  /** Raw texts of every token (SentencePiece with U+2581 for spaces, BPE byte-level encoded). */
  tokenTexts: string[];
  /** Texts that llama.cpp parses as special tokens in the input. */
  specialTexts: string[];
  /** SentencePiece: whether every tokenized text gets a leading space. */
  addSpacePrefix: boolean;
}

export interface TextChunk {
  start: number;
  end: number;
  /** The tokens of the space prefix the tokenizer adds to this chunk are not part of the text. */
  dropSpacePrefix: boolean;
}

const SPM_SPACE = 0x2581;
const SPACE = 0x20;
const APOSTROPHE = 0x27;
const CODE_POINTS = 0x110000;

const pairKey = (a: number, b: number) => a * CODE_POINTS + b;

function addPairs(pairs: Set<number>, text: string, map: (cp: number) => number): void {
  let previous = -1;
  for (const char of text) {
    const cp = map(char.codePointAt(0)!);
    if (previous >= 0) pairs.add(pairKey(previous, cp));
    previous = cp;
  }
}

/** GPT-2's byte-to-character table of byte-level BPE vocabularies. */
function byteLevelTable(): Uint32Array {
  const table = new Uint32Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = printable ? b : 256 + extra++;
  }
  return table;
}

function firstUtf8Byte(cp: number): number {
  if (cp < 0x80) return cp;
  if (cp < 0x800) return 0xc0 | (cp >> 6);
  if (cp < 0x10000) return 0xe0 | (cp >> 12);
  return 0xf0 | (cp >> 18);
}

function lastUtf8Byte(cp: number): number {
  return cp < 0x80 ? cp : 0x80 | (cp & 0x3f);
}

const CASELESS_LETTER = /^\p{Lo}$/u;
const SYMBOL = /^[\p{S}\p{P}]$/u;
const WHITESPACE = /^\s$/u;

export class ChunkBoundaries {
  private readonly pairs = new Set<number>();
  private readonly specialPairs = new Set<number>();
  private readonly specialFirst = new Set<number>();
  private readonly specialLast = new Set<number>();
  private readonly byteLevel = byteLevelTable();

  constructor(private readonly facts: VocabularyFacts) {
    const spmSpace = (cp: number) => (cp === SPACE ? SPM_SPACE : cp);
    const asIs = (cp: number) => cp;
    for (const text of facts.tokenTexts) addPairs(this.pairs, text, facts.kind === 'spm' ? spmSpace : asIs);
    for (const text of facts.specialTexts) {
      if (text.length === 0) continue;
      addPairs(this.specialPairs, text, asIs);
      if (facts.kind === 'spm') addPairs(this.pairs, text, spmSpace);
      this.specialFirst.add(text.codePointAt(0)!);
      this.specialLast.add(lastCodePoint(text, text.length));
    }
  }

  /** Cuts `text` into chunks of about `target` UTF-16 units (longer where no exact cut is near). */
  split(text: string, target: number): TextChunk[] {
    const chunks: TextChunk[] = [];
    let start = 0;
    let dropSpacePrefix = false;
    while (start + target < text.length) {
      const cut = this.findCut(text, start + target);
      if (!cut) break;
      chunks.push({ start, end: cut.end, dropSpacePrefix });
      start = cut.next;
      dropSpacePrefix = cut.dropSpacePrefix;
    }
    chunks.push({ start, end: text.length, dropSpacePrefix });
    return chunks;
  }

  /** The first exact cut at or after `from`: the chunk ends at `end`, the next starts at `next`. */
  private findCut(text: string, from: number): { end: number; next: number; dropSpacePrefix: boolean } | undefined {
    for (let k = from; k < text.length; k++) {
      const code = text.charCodeAt(k);
      if (code >= 0xdc00 && code <= 0xdfff) continue; // inside a surrogate pair
      const a = lastCodePoint(text, k);
      const b = text.codePointAt(k)!;
      const cut = this.facts.kind === 'spm' ? this.spmCut(text, k, a, b) : this.bpeCut(text, k, a, b);
      if (cut) return cut;
    }
    return undefined;
  }

  private spmCut(text: string, k: number, a: number, b: number): { end: number; next: number; dropSpacePrefix: boolean } | undefined {
    if (this.specialLast.has(a) || a === SPACE) return undefined;
    if (b === SPACE && this.facts.addSpacePrefix) {
      if (k + 1 >= text.length) return undefined;
      const next = text.codePointAt(k + 1)!;
      if (this.specialFirst.has(next) || this.pairs.has(pairKey(a, SPM_SPACE))) return undefined;
      return { end: k, next: k + 1, dropSpacePrefix: false };
    }
    if (b === SPACE || this.specialFirst.has(b) || this.pairs.has(pairKey(a, b))) return undefined;
    if (this.facts.addSpacePrefix && this.pairs.has(pairKey(SPM_SPACE, b))) return undefined;
    return { end: k, next: k, dropSpacePrefix: this.facts.addSpacePrefix };
  }

  /**
   * Punctuation or a symbol, not the apostrophe of contractions. A cut between two symbols is
   * taken only where a third follows: a symbol just before letters may start a pre-token with them.
   */
  private isSymbol(cp: number | undefined): boolean {
    return cp !== undefined && cp !== APOSTROPHE && SYMBOL.test(String.fromCodePoint(cp));
  }

  private bpeCut(text: string, k: number, a: number, b: number): { end: number; next: number; dropSpacePrefix: boolean } | undefined {
    if (this.specialLast.has(a) || this.specialFirst.has(b) || this.specialPairs.has(pairKey(a, b))) return undefined;
    const cut = { end: k, next: k, dropSpacePrefix: false };
    const charA = String.fromCodePoint(a);
    if (b === SPACE) return WHITESPACE.test(charA) ? undefined : cut;
    const charB = String.fromCodePoint(b);
    const sameRun =
      (CASELESS_LETTER.test(charA) && CASELESS_LETTER.test(charB)) ||
      (this.isSymbol(a) && this.isSymbol(b) && this.isSymbol(text.codePointAt(k + charB.length)));
    if (!sameRun) return undefined;
    return this.pairs.has(pairKey(this.byteLevel[lastUtf8Byte(a)], this.byteLevel[firstUtf8Byte(b)])) ? undefined : cut;
  }
}

/** The code point that ends at UTF-16 index `end`. */
function lastCodePoint(text: string, end: number): number {
  const low = text.charCodeAt(end - 1);
  if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
    const high = text.charCodeAt(end - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(end - 2)!;
  }
  return low;
}
