// The HTTP thread's handle on the preprocessing thread: one promise per job.
import { Worker } from 'node:worker_threads';
import { MessageError } from '../chat/messages.js';
import { TemplateError } from '../chat/template.js';
import type { FromPreprocessor, PreprocessFailure, PreprocessJob, PreprocessWorkerConfig } from './protocol.js';

interface Pending {
  resolve: (result: { ids?: Int32Array; text?: string }) => void;
  reject: (error: Error) => void;
}

function errorOf(failure: PreprocessFailure): Error {
  if (failure.kind === 'message') return new MessageError(failure.param ?? '', failure.message);
  if (failure.kind === 'template') return new TemplateError(failure.message);
  return new Error(failure.message);
}

export class PreprocessWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromPreprocessor) => {
      if (message.type !== 'done' && message.type !== 'error') return;
      const job = this.pending.get(message.id);
      if (!job) return;
      this.pending.delete(message.id);
      if (message.type === 'done') job.resolve(message);
      else job.reject(errorOf(message.failure));
    });
    worker.on('error', (error) => this.stop(error));
    worker.on('exit', () => this.stop(new Error('the preprocessing thread stopped')));
    // Idle, it must not keep the process alive.
    worker.unref();
  }

  static start(config: PreprocessWorkerConfig): Promise<PreprocessWorker> {
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: config });
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromPreprocessor) => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          resolve(new PreprocessWorker(worker));
        } else if (message.type === 'failed') {
          void worker.terminate();
          reject(new Error(message.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  /** Stops the thread (and waits for it to be gone). */
  async close(): Promise<void> {
    this.stop(new Error('the preprocessing thread stopped'));
    await this.worker.terminate();
  }

  /** False once the thread has stopped: callers then do the work themselves. */
  get alive(): boolean {
    return !this.stopped;
  }

  run(job: PreprocessJob): Promise<{ ids?: Int32Array; text?: string }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(new Error('the preprocessing thread stopped'));
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id });
    });
  }

  private stop(error: Error): void {
    this.stopped = true;
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }
}
