// The engine thread: loads the model, then runs the scheduler's step loop so that decoding never
// blocks the HTTP event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { LlamaEngine } from '../engine/llama/engine.js';
import { routeLlamaLogs } from '../engine/llama/logging.js';
import { AdapterInUseError, Scheduler } from '../scheduler/scheduler.js';
import type { EngineWorkerConfig, FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort!;
const config = workerData as EngineWorkerConfig;
const send = (message: FromWorker) => port.postMessage(message);

function start(): void {
  routeLlamaLogs((level, text) => send({ type: 'log', level, text }));
  let engine: LlamaEngine;
  try {
    engine = LlamaEngine.create({ ...config.engine, onProgress: (fraction) => send({ type: 'progress', fraction }) });
  } catch (error) {
    // llama.cpp has one log callback for the whole process, and it may be this thread's: were the
    // thread to end now, another thread's llama.cpp call (the preprocessing thread, still loading
    // its vocabulary) would log into a callback that is gone, and the process would abort. The
    // thread stays until the process ends (its client unrefs it).
    port.on('message', () => undefined);
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const limits = {
    maxSequences: config.scheduler.maxSequences,
    poolCells: config.scheduler.poolCells,
    maxPrefillTokens: Math.min(config.scheduler.maxPrefillTokens, engine.limits.maxBatchTokens - config.scheduler.maxSequences),
    prefixCaching: config.scheduler.prefixCaching,
  };
  const scheduler: Scheduler = new Scheduler(engine, limits, (events, state) => send({ type: 'events', events, state, steps: scheduler.takeStepRecords() }), config.watermark);
  port.on('message', (message: ToWorker) => {
    if (message.type === 'submit') scheduler.submit(message.request);
    else if (message.type === 'cancel') scheduler.cancel(message.requestId);
    else if (message.type === 'shutdown') scheduler.close();
    else if (message.type === 'adapter') {
      try {
        if (message.op === 'load') scheduler.loadAdapter(message.id, message.path!);
        else scheduler.unloadAdapter(message.id);
        send({ type: 'adapter-done', call: message.call });
      } catch (error) {
        send({ type: 'adapter-done', call: message.call, error: error instanceof Error ? error.message : String(error), inUse: error instanceof AdapterInUseError });
      }
    }
  });
  send({ type: 'ready', info: engine.info, context: engine.resolved, limits });
  void scheduler.run().then(() => {
    engine.close();
    send({ type: 'closed' });
    port.close();
  });
}

start();
