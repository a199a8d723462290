// What the HTTP thread and the grammar thread say to each other, and the errors compiling can
// raise, which arrive on the HTTP thread as their class.
import type { GrammarSpec } from '../grammar/grammars.js';
import { CompileTimeout, type CompileLimits } from '../grammar/deadline.js';
import { SchemaError } from '../grammar/json-schema/index.js';
import { RegexError } from '../grammar/regex/index.js';
import { ErrorCodec } from '../threads/error-codec.js';

export type GrammarProtocol = {
  calls: { compile: { params: { spec: GrammarSpec; key: string; limits: CompileLimits }; result: GrammarSpec } };
  toThread: Record<string, never>;
  toHost: Record<string, never>;
  ready: undefined;
};

export const grammarErrors = new ErrorCodec([SchemaError, RegexError, CompileTimeout]);
