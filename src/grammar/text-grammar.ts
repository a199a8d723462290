// Grammars written as plain data: literal text, JSON values under a schema, regexes and free text
// in sequences, alternations and repetitions. Tool-call formats (and a response format beside
// them) are described this way and compiled into one pushdown automaton, so that the JSON inside a
// call is held to its schema and the text around it to the format.
import { GrammarBuilder, PushdownAutomaton, type Grammar } from './cfg/index.js';
import { g } from './cfg/index.js';
import type { GrammarNode } from './cfg/nodes.js';
import { dfaNode, isEmpty, lazy, product } from './regular/index.js';
import { asSchemaError, jsonSchemaValue } from './json-schema/index.js';
import { JsonSyntax } from './json-schema/json-syntax.js';

export type TextGrammar =
  | { readonly k: 'literal'; readonly text: string }
  /** One JSON value valid under `schema`, written compactly (one optional space after `,` and `:`, no other whitespace; integers without fraction). */
  | { readonly k: 'json'; readonly schema: unknown }
  /** A pattern of the regex dialect (a full match). */
  | { readonly k: 'regex'; readonly pattern: string }
  /**
   * Any text (possibly empty) in which none of `excluded` occurs, and that does not open with one of
   * `excludedAtStart` (after any whitespace).
   */
  | { readonly k: 'text'; readonly excluded: readonly string[]; readonly excludedAtStart?: readonly string[] }
  | { readonly k: 'seq'; readonly items: readonly TextGrammar[] }
  | { readonly k: 'alt'; readonly options: readonly TextGrammar[] }
  /** `max` null: no upper bound. */
  | { readonly k: 'repeat'; readonly item: TextGrammar; readonly min: number; readonly max: number | null };

export const tg = {
  literal: (text: string): TextGrammar => ({ k: 'literal', text }),
  json: (schema: unknown): TextGrammar => ({ k: 'json', schema }),
  regex: (pattern: string): TextGrammar => ({ k: 'regex', pattern }),
  /** Free text in which none of `excluded` occurs. */
  text: (...excluded: string[]): TextGrammar => ({ k: 'text', excluded }),
  /** Free text in which none of `excluded` occurs and that does not open with one of `atStart`. */
  textOpening: (excluded: readonly string[], atStart: readonly string[]): TextGrammar => ({
    k: 'text',
    excluded,
    excludedAtStart: atStart,
  }),
  seq: (...items: TextGrammar[]): TextGrammar => ({ k: 'seq', items }),
  alt: (...options: TextGrammar[]): TextGrammar => ({ k: 'alt', options }),
  repeat: (item: TextGrammar, min: number, max: number | null): TextGrammar => ({ k: 'repeat', item, min, max }),
  optional: (item: TextGrammar): TextGrammar => ({ k: 'repeat', item, min: 0, max: 1 }),
  /** `min` to `max` (null: any number) of `item`, at least one, `separator` between two. */
  list: (item: TextGrammar, separator: TextGrammar, min: number, max: number | null): TextGrammar => ({
    k: 'seq',
    items: [
      item,
      {
        k: 'repeat',
        item: { k: 'seq', items: [separator, item] },
        min: Math.max(1, min) - 1,
        max: max === null ? null : Math.max(0, max - 1),
      },
    ],
  }),
};

const ANY_TEXT = g.repeat(g.chars([[0, 0x10ffff]]), 0, Infinity);

class TextGrammarCompiler {
  private readonly builder = new GrammarBuilder();
  private readonly syntax = new JsonSyntax(this.builder, 'compact');
  private readonly freeText = new Map<string, GrammarNode>();

  compile(grammar: TextGrammar): Grammar {
    const start = this.builder.rule('text grammar', this.node(grammar));
    return this.builder.build(start);
  }

  private node(grammar: TextGrammar): GrammarNode {
    switch (grammar.k) {
      case 'literal':
        return g.literal(grammar.text);
      case 'json':
        return jsonSchemaValue(this.builder, this.syntax, grammar.schema);
      case 'regex':
        return g.pattern(grammar.pattern);
      case 'text':
        return this.textWithout(grammar.excluded, grammar.excludedAtStart ?? []);
      case 'seq':
        return g.seq(...grammar.items.map((item) => this.node(item)));
      case 'alt':
        return g.alt(...grammar.options.map((option) => this.node(option)));
      case 'repeat':
        return g.repeat(this.node(grammar.item), grammar.min, grammar.max ?? Infinity);
    }
  }

  /** Any text minus text with one of `excluded` inside, or one of `atStart` at its start. */
  private textWithout(excluded: readonly string[], atStart: readonly string[]): GrammarNode {
    const words = excluded.filter((word) => word.length > 0);
    const openings = atStart.filter((word) => word.length > 0);
    if (words.length === 0 && openings.length === 0) return ANY_TEXT;
    const key = JSON.stringify([words, openings]);
    const known = this.freeText.get(key);
    if (known) return known;
    const refused = g.alt(
      ...(words.length > 0 ? [g.seq(ANY_TEXT, g.alt(...words.map((word) => g.literal(word))), ANY_TEXT)] : []),
      ...(openings.length > 0 ? [g.seq(g.pattern('\\s*'), g.alt(...openings.map((word) => g.literal(word))), ANY_TEXT)] : []),
    );
    const dfa = product(lazy(ANY_TEXT), lazy(refused), 'and-not');
    const node = isEmpty(dfa) ? g.EMPTY : dfaNode(dfa);
    this.freeText.set(key, node);
    return node;
  }
}

/** Throws SchemaError for a part that cannot be enforced (a JSON Schema, a regex, a size bound). */
export function textGrammarAutomaton(grammar: TextGrammar): PushdownAutomaton {
  try {
    return PushdownAutomaton.compile(new TextGrammarCompiler().compile(grammar));
  } catch (error) {
    throw asSchemaError(error);
  }
}
