// The `grammar` parameter: TGI's rules 17-22 (tgi-api.md §2.3). A regex is compiled here, so a bad
// one is a 422 before the request reaches the engine (TGI fails the whole batch later instead).
import type { z } from 'zod';
import type { GrammarSchema } from '../api/native.js';
import { compileAutomaton, type GrammarSpec } from '../grammar/grammars.js';
import { ValidationError } from './generate.js';

export function validateGrammar(grammar: z.infer<typeof GrammarSchema>, disabled: boolean): GrammarSpec {
  if (disabled) throw new ValidationError('grammar is not supported');
  if (grammar.type !== 'regex') {
    throw new ValidationError('grammar is not supported yet by this server for JSON (JSON Schema constraints are not implemented; regex grammars are)');
  }
  if (typeof grammar.value !== 'string') throw new ValidationError('grammar is not valid: a regex grammar takes its pattern as a string');
  const spec: GrammarSpec = { type: 'regex', pattern: grammar.value };
  try {
    compileAutomaton(spec);
  } catch (error) {
    throw new ValidationError(`grammar is not valid: ${error instanceof Error ? error.message : String(error)}`);
  }
  return spec;
}
