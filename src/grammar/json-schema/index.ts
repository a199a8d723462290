// JSON Schema -> a context-free grammar (../cfg) whose texts are the JSON texts valid under the
// schema, followed as a pushdown automaton. Soundness first: what cannot be enforced exactly is
// narrowed (never widened) or refused with a SchemaError naming the keyword. See compile.ts.
import { GrammarError, PushdownAutomaton } from '../cfg/index.js';
import type { Grammar } from '../cfg/grammar.js';
import { RegexError } from '../regex/index.js';
import { SchemaCompiler } from './compile.js';
import type { WhitespaceMode } from './json-syntax.js';
import { SchemaError } from './schema-error.js';

export { SchemaError };
export type { WhitespaceMode };

export interface JsonGrammarOptions {
  /** See WhitespaceMode: `flexible` (the default) for checking texts, `compact` for generation. */
  whitespace?: WhitespaceMode;
}

export function jsonSchemaGrammar(schema: unknown, options: JsonGrammarOptions = {}): Grammar {
  try {
    return new SchemaCompiler(schema, options.whitespace ?? 'flexible').grammar();
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

function asSchemaError(error: unknown): unknown {
  if (error instanceof SchemaError) return error;
  if (error instanceof GrammarError) return new SchemaError(`the schema cannot be followed: ${error.message}`, '');
  if (error instanceof RegexError) return new SchemaError(`the schema's grammar is too complex: ${error.message}`, '');
  return error;
}
