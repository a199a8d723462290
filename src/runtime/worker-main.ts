// The engine thread: loads the model, then runs the scheduler's step loop so that decoding never
// blocks the HTTP event loop.
import { workerData } from 'node:worker_threads';
import { LlamaEngine } from '../engine/llama/engine.js';
import { routeLlamaLogs } from '../engine/llama/logging.js';
import { AdapterInUseError, Scheduler } from '../scheduler/scheduler.js';
import { ThreadPort } from '../threads/rpc.js';
import { AdapterChangeError, engineErrors, type EngineProtocol, type EngineWorkerConfig } from './worker-protocol.js';

const port = new ThreadPort<EngineProtocol>(engineErrors);
const config = workerData as EngineWorkerConfig;

function start(): void {
  routeLlamaLogs((level, text) => port.emit('log', { level, text }));
  let engine: LlamaEngine;
  try {
    engine = LlamaEngine.create({ ...config.engine, onProgress: (fraction) => port.emit('progress', fraction) });
  } catch (error) {
    // llama.cpp has one log callback for the whole process, and it may be this thread's: were the
    // thread to end now, another thread's llama.cpp call (the preprocessing thread, still loading
    // its vocabulary) would log into a callback that is gone, and the process would abort. The
    // thread stays until the process ends (its host unrefs it).
    port.fail(error, true);
    return;
  }
  const limits = {
    maxSequences: config.scheduler.maxSequences,
    poolCells: config.scheduler.poolCells,
    maxPrefillTokens: Math.min(config.scheduler.maxPrefillTokens, engine.limits.maxBatchTokens - config.scheduler.maxSequences),
    prefixCaching: config.scheduler.prefixCaching,
  };
  const scheduler: Scheduler = new Scheduler(
    engine,
    limits,
    (events, state) => port.emit('events', { events, state, steps: scheduler.takeStepRecords() }),
    config.watermark,
  );
  port.serve(
    { info: engine.info, context: engine.resolved, limits },
    {
      adapter: ({ op, id, path }) => {
        try {
          if (op === 'load') scheduler.loadAdapter(id, path!);
          else scheduler.unloadAdapter(id);
        } catch (error) {
          throw new AdapterChangeError(error instanceof Error ? error.message : String(error), error instanceof AdapterInUseError);
        }
      },
    },
    {
      submit: (request) => scheduler.submit(request),
      cancel: (requestId) => scheduler.cancel(requestId),
      shutdown: () => scheduler.close(),
    },
  );
  void scheduler.run().then(() => {
    engine.close();
    port.emit('closed', undefined);
    port.close();
  });
}

start();
