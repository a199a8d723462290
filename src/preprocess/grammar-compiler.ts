// Compiling grammars for the routes: on a thread of its own within a budget of work (steps, see
// grammar/deadline.ts; a wall-clock limit is only a generous backstop), cached by the grammar's
// text, and shared with the engine thread without copies. A thread that overruns the backstop
// without noticing (a loop that does not count its steps) is stopped and replaced, and its request
// refused; the HTTP event loop never waits on a compile.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { PushdownAutomaton } from '../grammar/cfg/index.js';
import { COMPILE_BACKSTOP_MS, COMPILE_STEP_LIMIT, CompileTimeout, type CompileLimits, withCompileBudget } from '../grammar/deadline.js';
import { compileSpec, type GrammarSpec, keyOf } from '../grammar/grammars.js';
import { errorOf, type FromGrammarThread, type ToGrammarThread } from './grammar-protocol.js';

/** A compile stops itself past these; the grammar thread is replaced when a job (queueing included) waits past twice the backstop. */
export const COMPILE_LIMITS: CompileLimits = { steps: COMPILE_STEP_LIMIT, ms: COMPILE_BACKSTOP_MS };
const KEPT_SPECS = 128;

interface Pending {
  resolve: (spec: GrammarSpec) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class GrammarCompiler {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly cache = new Map<string, GrammarSpec>();
  private closed = false;

  /** `threaded` false compiles in place (tests, or where threads are not wanted). */
  constructor(
    private readonly threaded = true,
    private readonly limits: CompileLimits = COMPILE_LIMITS,
  ) {}

  /** The spec compiled (a JSON Schema into shared parts), from the cache when seen before. */
  async compile(spec: GrammarSpec): Promise<GrammarSpec> {
    const key = createHash('sha256').update(keyOf(spec)).digest('hex');
    const known = this.cache.get(key);
    if (known) {
      this.cache.delete(key);
      this.cache.set(key, known);
      return known;
    }
    const compiled = this.threaded && !this.closed ? await this.onThread(spec, key) : withCompileBudget(this.limits, () => compileSpec(spec, key));
    const shared = compiled.type === 'compiled' ? { ...compiled, parts: PushdownAutomaton.shared(compiled.parts) } : compiled;
    if (this.cache.size >= KEPT_SPECS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, shared);
    return shared;
  }

  /** Stops the thread (at shutdown): later compiles are done in place. */
  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private async onThread(spec: GrammarSpec, key: string): Promise<GrammarSpec> {
    await this.start();
    const worker = this.worker!;
    const id = this.nextId++;
    return new Promise<GrammarSpec>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The thread did not answer in time: stop it (and every job it held) and start afresh.
        this.restart(new CompileTimeout(`compiling the grammar took longer than ${2 * this.limits.ms} ms (the compile time backstop); simplify it`));
      }, 2 * this.limits.ms);
      this.pending.set(id, { resolve, reject, timer });
      const job: ToGrammarThread = { id, spec, key, limits: this.limits };
      worker.postMessage(job);
    });
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./grammar-worker-main.js', import.meta.url));
    worker.unref();
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (message: FromGrammarThread) => {
        if (message.id === 0) {
          resolve();
          return;
        }
        const job = this.pending.get(message.id);
        if (!job) return;
        this.pending.delete(message.id);
        clearTimeout(job.timer);
        if (message.spec) job.resolve(message.spec);
        else job.reject(errorOf(message.failure!));
      });
    });
    worker.on('error', (error) => this.restart(error));
    worker.on('exit', () => {
      if (this.worker === worker) this.restart(new Error('the grammar thread stopped'));
    });
    return this.ready;
  }

  private restart(error: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const job of this.pending.values()) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.pending.clear();
    void worker?.terminate();
  }
}
