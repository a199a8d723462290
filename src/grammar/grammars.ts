// Grammars as requests carry them, compiled once per vocabulary and reused: the trie of the
// vocabulary is built on the first constrained request, compiled grammars are kept by key.
import type { ByteAutomaton } from './automaton.js';
import { PushdownAutomaton, type PushdownParts } from './cfg/index.js';
import { CompiledConstraint } from './constraint.js';
import { jsonSchemaAutomaton, type WhitespaceMode } from './json-schema/index.js';
import { RegexAutomaton } from './regex/index.js';
import { TokenTrie } from './token-trie.js';
import { textGrammarAutomaton, type TextGrammar } from './text-grammar.js';

/**
 * A grammar as a request carries it across threads: plain data. A JSON Schema is compiled once
 * (off the HTTP thread) into `compiled` parts, named by a key, which the engine rebuilds its
 * automaton from without compiling again.
 */
export type GrammarSpec =
  | { type: 'regex'; pattern: string }
  | { type: 'json-schema'; schema: unknown; whitespace: WhitespaceMode }
  | { type: 'text'; grammar: TextGrammar; atoms?: string[] }
  | { type: 'compiled'; key: string; parts: PushdownParts; atoms?: string[] };

/** The special tokens a grammar may produce, by their text (a tool call's markers): kept in `atoms`. */
function atomsOf(spec: GrammarSpec): readonly string[] {
  return spec.type === 'text' || spec.type === 'compiled' ? (spec.atoms ?? []) : [];
}

/** What the grammar layer needs of a vocabulary. */
export interface GrammarVocabulary {
  readonly vocabSize: number;
  /** The bytes a token stands for in generated text. */
  tokenBytes(id: number): Uint8Array;
  /** Special tokens are never produced by a grammar (end-of-generation tokens and atoms aside). */
  isSpecial(id: number): boolean;
  /** A token's text with special tokens rendered (how a grammar's atoms are found). */
  tokenText(id: number): string;
  isEndOfGeneration(id: number): boolean;
}

/**
 * Throws RegexError for a pattern outside the supported subset or beyond the size bounds, and
 * SchemaError for a schema that cannot be enforced.
 */
function compileAutomaton(spec: GrammarSpec): ByteAutomaton {
  if (spec.type === 'regex') return RegexAutomaton.compile(spec.pattern);
  if (spec.type === 'compiled') return PushdownAutomaton.fromParts(spec.parts);
  if (spec.type === 'text') return textGrammarAutomaton(spec.grammar);
  return jsonSchemaAutomaton(spec.schema, { whitespace: spec.whitespace });
}

/** The grammar compiled to parts another thread can rebuild it from (regexes stay patterns). */
export function compileSpec(spec: GrammarSpec, key: string): GrammarSpec {
  if (spec.type === 'regex') RegexAutomaton.compile(spec.pattern);
  if (spec.type === 'regex' || spec.type === 'compiled') return spec;
  if (spec.type === 'text')
    return { type: 'compiled', key, parts: textGrammarAutomaton(spec.grammar).parts, ...(spec.atoms?.length ? { atoms: spec.atoms } : {}) };
  return { type: 'compiled', key, parts: jsonSchemaAutomaton(spec.schema, { whitespace: spec.whitespace }).parts };
}

const KEPT_GRAMMARS = 64;

export function keyOf(spec: GrammarSpec): string {
  switch (spec.type) {
    case 'regex':
      return `regex:${spec.pattern}`;
    case 'json-schema':
      return `json-schema:${spec.whitespace}:${JSON.stringify(spec.schema)}`;
    case 'text':
      return `text:${JSON.stringify(spec.atoms ?? [])}:${JSON.stringify(spec.grammar)}`;
    case 'compiled':
      return spec.key;
  }
}

/** The vocabulary's special tokens (end-of-generation ones excepted) by their text: where a grammar's atoms are found. */
export function specialTokensByText(vocabulary: GrammarVocabulary): Map<string, number[]> {
  const byText = new Map<string, number[]>();
  for (let id = 0; id < vocabulary.vocabSize; id++) {
    if (!vocabulary.isSpecial(id) || vocabulary.isEndOfGeneration(id)) continue;
    const text = vocabulary.tokenText(id);
    const ids = byText.get(text);
    if (ids) ids.push(id);
    else byText.set(text, [id]);
  }
  return byText;
}

export class Grammars {
  private trie: TokenTrie | undefined;
  private endTokens: number[] = [];
  private specialIds: Map<string, number[]> | undefined;
  private readonly compiled = new Map<string, CompiledConstraint>();

  constructor(private readonly vocabulary: GrammarVocabulary) {}

  /** The compiled constraint of `spec`, from the cache when seen recently. */
  constraint(spec: GrammarSpec): CompiledConstraint {
    const key = keyOf(spec);
    let compiled = this.compiled.get(key);
    if (compiled) {
      this.compiled.delete(key);
    } else {
      const trie = this.vocabularyTrie();
      compiled = new CompiledConstraint(compileAutomaton(spec), trie, this.endTokens, this.atomTokens(atomsOf(spec)));
      if (this.compiled.size >= KEPT_GRAMMARS) this.compiled.delete(this.compiled.keys().next().value!);
    }
    this.compiled.set(key, compiled);
    return compiled;
  }

  /** Drops a grammar whose automaton failed, so that the next request compiles it afresh. */
  forget(spec: GrammarSpec): void {
    this.compiled.delete(keyOf(spec));
  }

  /** The special tokens whose texts are `atoms`, with the bytes a grammar reads for each. */
  private atomTokens(atoms: readonly string[]): Map<number, Uint8Array> {
    const tokens = new Map<number, Uint8Array>();
    if (atoms.length === 0) return tokens;
    this.specialIds ??= specialTokensByText(this.vocabulary);
    for (const text of atoms) for (const id of this.specialIds.get(text) ?? []) tokens.set(id, new TextEncoder().encode(text));
    return tokens;
  }

  private vocabularyTrie(): TokenTrie {
    if (this.trie) return this.trie;
    const v = this.vocabulary;
    const bytes: (Uint8Array | null)[] = [];
    for (let id = 0; id < v.vocabSize; id++) {
      if (v.isEndOfGeneration(id)) this.endTokens.push(id);
      bytes.push(v.isSpecial(id) ? null : v.tokenBytes(id));
    }
    this.trie = new TokenTrie(bytes);
    return this.trie;
  }
}
