// JSON Schema -> a context-free grammar (../cfg) whose texts are the JSON texts valid under the
// schema, followed as a pushdown automaton. The schema is lowered to an intermediate form of
// typed constraints with and, or and not (lower.ts, ir/), then emitted as grammar rules (emit.ts).
// Soundness first: what cannot be enforced exactly is narrowed (never widened) or refused with a
// SchemaError naming the keyword's JSON Pointer.
import { GrammarBuilder, GrammarError, PushdownAutomaton } from '../cfg/index.js';
import type { Grammar } from '../cfg/grammar.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { g } from '../cfg/index.js';
import { RegexError } from '../regex/index.js';
import { CompileTimeout } from '../deadline.js';
import { Emitter } from './emit.js';
import { JsonSyntax, type WhitespaceMode } from './json-syntax.js';
import { Lowering } from './lower.js';
import { SchemaError } from './schema-error.js';

export { SchemaError };
export type { WhitespaceMode };

export interface JsonGrammarOptions {
  /** See WhitespaceMode: `flexible` (the default) for checking texts, `compact` for generation. */
  whitespace?: WhitespaceMode;
}

function jsonSchemaGrammar(schema: unknown, options: JsonGrammarOptions = {}): Grammar {
  try {
    const builder = new GrammarBuilder();
    const syntax = new JsonSyntax(builder, options.whitespace ?? 'flexible');
    const value = jsonSchemaValue(builder, syntax, schema);
    const start = builder.rule('JSON text', g.seq(syntax.outer, value, syntax.outer));
    return builder.build(start);
  } catch (error) {
    throw asSchemaError(error);
  }
}

/** The JSON values valid under `schema`, as rules of `builder` (for a grammar that embeds them). */
export function jsonSchemaValue(builder: GrammarBuilder, syntax: JsonSyntax, schema: unknown): GrammarNode {
  try {
    const root = new Lowering(schema, { integerFraction: syntax.integerFraction, safeIntegers: syntax.safeIntegers }).lower(schema, '');
    const value = root.k === 'any' ? syntax.anyValue() : new Emitter(builder, syntax).value(root);
    if (g.isNothing(value)) throw new SchemaError('no JSON value is valid under the schema', '');
    return value;
  } catch (error) {
    throw asSchemaError(error);
  }
}

/** The schema's automaton. Throws SchemaError for a schema it cannot enforce. */
export function jsonSchemaAutomaton(schema: unknown, options: JsonGrammarOptions = {}): PushdownAutomaton {
  const grammar = jsonSchemaGrammar(schema, options);
  try {
    return PushdownAutomaton.compile(grammar);
  } catch (error) {
    throw asSchemaError(error);
  }
}

/** Errors of compiling a schema's grammar as SchemaErrors (what a request is told). */
export function asSchemaError(error: unknown): unknown {
  if (error instanceof SchemaError) return error;
  if (error instanceof CompileTimeout) return new SchemaError(error.message, '');
  if (error instanceof GrammarError) return new SchemaError(`the schema cannot be followed: ${error.message}`, '');
  if (error instanceof RegexError) return new SchemaError(`the schema's grammar is too complex: ${error.message}`, '');
  return error;
}
