// The `grammar` parameter: TGI's grammar validation rules. Grammars are compiled here, so a bad
// one is a 422 before the request reaches the engine (TGI fails the whole batch later instead). A
// JSON Schema becomes a context-free grammar, compiled once (off the HTTP thread, see
// GrammarCompiler) into parts the engine follows as a pushdown automaton.
import type { z } from 'zod';
import type { GrammarSchema } from '../api/native.js';
import type { GrammarSpec } from '../grammar/grammars.js';
import { SchemaError } from '../grammar/json-schema/index.js';
import { ValidationError } from './validation-error.js';

/** Compiles a grammar spec (on another thread, with a cache), or throws the compiler's error. */
export type CompileGrammar = (spec: GrammarSpec) => Promise<GrammarSpec>;

type Grammar = z.infer<typeof GrammarSchema>;

class GrammarRuleError extends ValidationError {
  constructor(message: string) {
    super(message, 'grammar');
  }
}

/** The schema a `json`, `json_object` or `json_schema` grammar carries (TGI's rules 18 and 19). */
function schemaOf(grammar: Grammar): unknown {
  let value = grammar.value;
  if (grammar.type === 'json_schema') {
    const inner = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { schema?: unknown }).schema : undefined;
    if (inner === undefined) throw new GrammarRuleError('grammar is not valid: a json_schema grammar takes {"name": ..., "schema": {...}}');
    return inner;
  }
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new GrammarRuleError(`grammar is not valid: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (value === null || (typeof value !== 'object' && typeof value !== 'boolean')) throw new GrammarRuleError('grammar is not supported');
  return value;
}

/** The spec a `grammar` (or response_format) stands for, not compiled yet. */
export function grammarSpecOf(grammar: Grammar): GrammarSpec {
  if (grammar.type === 'regex') {
    if (typeof grammar.value !== 'string')
      throw new GrammarRuleError('grammar is not valid: a regex grammar takes its pattern as a string');
    return { type: 'regex', pattern: grammar.value };
  }
  return { type: 'json-schema', schema: schemaOf(grammar), whitespace: 'compact' };
}

export async function validateGrammar(grammar: Grammar, disabled: boolean, compile: CompileGrammar): Promise<GrammarSpec> {
  if (disabled) throw new GrammarRuleError('grammar is not supported');
  const spec = grammarSpecOf(grammar);
  try {
    return await compile(spec);
  } catch (error) {
    if (error instanceof SchemaError) throw new GrammarRuleError(`grammar is not valid: ${error.detail}`);
    throw new GrammarRuleError(`grammar is not valid: ${error instanceof Error ? error.message : String(error)}`);
  }
}
