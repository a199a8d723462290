// Messages between the HTTP thread and the grammar thread, and the errors compiling can raise,
// carried as plain data and raised again on the other side.
import type { GrammarSpec } from '../grammar/grammars.js';
import { CompileTimeout, type CompileLimits } from '../grammar/deadline.js';
import { SchemaError } from '../grammar/json-schema/index.js';
import { RegexError } from '../grammar/regex/index.js';

export interface ToGrammarThread {
  id: number;
  spec: GrammarSpec;
  key: string;
  limits: CompileLimits;
}

export interface GrammarFailure {
  kind: 'schema' | 'regex' | 'timeout' | 'other';
  message: string;
  path?: string;
}

/** The compiled spec, a failure, or (id 0, neither) the thread saying it is ready. */
export interface FromGrammarThread {
  id: number;
  spec?: GrammarSpec;
  failure?: GrammarFailure;
}

export function failureOf(error: unknown): GrammarFailure {
  if (error instanceof SchemaError) return { kind: 'schema', message: error.message, path: error.path };
  if (error instanceof RegexError) return { kind: 'regex', message: error.message };
  if (error instanceof CompileTimeout) return { kind: 'timeout', message: error.message };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

export function errorOf(failure: GrammarFailure): Error {
  switch (failure.kind) {
    case 'schema':
      return new SchemaError(failure.message, failure.path ?? '');
    case 'regex':
      return new RegexError(failure.message);
    case 'timeout':
      return new CompileTimeout(failure.message);
    default:
      return new Error(failure.message);
  }
}
