// The grammar thread: compiles JSON Schemas (and checks regexes) within a budget of work, so that a
// hostile schema costs a thread of its own, never the HTTP event loop or the engine's steps.
import { compileSpec } from '../grammar/grammars.js';
import { withCompileBudget } from '../grammar/deadline.js';
import { ThreadPort } from '../threads/rpc.js';
import { grammarErrors, type GrammarProtocol } from './grammar-protocol.js';

new ThreadPort<GrammarProtocol>(grammarErrors).serve(undefined, {
  compile: ({ spec, key, limits }) => withCompileBudget(limits, () => compileSpec(spec, key)),
});
