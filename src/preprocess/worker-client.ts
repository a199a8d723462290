// The HTTP thread's handle on the preprocessing thread: one promise per job.
import { ThreadHost } from '../threads/rpc.js';
import {
  preprocessErrors,
  type PreprocessJob,
  type PreprocessProtocol,
  type PreprocessResult,
  type PreprocessWorkerConfig,
} from './protocol.js';

export class PreprocessWorker {
  private constructor(private readonly host: ThreadHost<PreprocessProtocol>) {}

  static async start(config: PreprocessWorkerConfig): Promise<PreprocessWorker> {
    // Idle, it must not keep the process alive (unref).
    const { host } = await ThreadHost.start<PreprocessProtocol>(new URL('./worker-main.js', import.meta.url), {
      label: 'the preprocessing thread',
      workerData: config,
      errors: preprocessErrors,
      unref: true,
    });
    return new PreprocessWorker(host);
  }

  /** Stops the thread (and waits for it to be gone). */
  async close(): Promise<void> {
    await this.host.terminate();
  }

  /** False once the thread has stopped: callers then do the work themselves. */
  get alive(): boolean {
    return this.host.alive;
  }

  /** Runs the job on the thread; rejects with MessageError or TemplateError as rendering in place does. */
  run(job: PreprocessJob): Promise<PreprocessResult> {
    return this.host.call('run', job);
  }
}
