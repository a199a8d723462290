// The grammar thread: compiles JSON Schemas (and checks regexes) within a budget of work, so that a
// hostile schema costs a thread of its own, never the HTTP event loop or the engine's steps.
import { parentPort } from 'node:worker_threads';
import { compileSpec } from '../grammar/grammars.js';
import { withCompileBudget } from '../grammar/deadline.js';
import type { FromGrammarThread, ToGrammarThread } from './grammar-protocol.js';
import { failureOf } from './grammar-protocol.js';

const port = parentPort!;
port.on('message', (job: ToGrammarThread) => {
  let message: FromGrammarThread;
  try {
    message = { id: job.id, spec: withCompileBudget(job.limits, () => compileSpec(job.spec, job.key)) };
  } catch (error) {
    message = { id: job.id, failure: failureOf(error) };
  }
  port.postMessage(message);
});
port.postMessage({ id: 0 });
