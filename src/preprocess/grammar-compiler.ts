// Compiling grammars for the routes: on a thread of its own within a budget of work (steps, see
// grammar/deadline.ts; a wall-clock limit is only a generous backstop), cached by the grammar's
// text, and shared with the engine thread without copies. A thread that overruns the backstop
// without noticing (a loop that does not count its steps) is stopped and replaced, and its request
// refused; the HTTP event loop never waits on a compile.
import { createHash } from 'node:crypto';
import { PushdownAutomaton } from '../grammar/cfg/index.js';
import { COMPILE_BACKSTOP_MS, COMPILE_STEP_LIMIT, CompileTimeout, type CompileLimits, withCompileBudget } from '../grammar/deadline.js';
import { compileSpec, type GrammarSpec, keyOf } from '../grammar/grammars.js';
import { ThreadHost } from '../threads/rpc.js';
import { grammarErrors, type GrammarProtocol } from './grammar-protocol.js';

/** A compile stops itself past these; the grammar thread is replaced when a job (queueing included) waits past twice the backstop. */
const COMPILE_LIMITS: CompileLimits = { steps: COMPILE_STEP_LIMIT, ms: COMPILE_BACKSTOP_MS };
const KEPT_SPECS = 128;

export class GrammarCompiler {
  private thread: Promise<ThreadHost<GrammarProtocol>> | undefined;
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
    const compiled =
      this.threaded && !this.closed ? await this.onThread(spec, key) : withCompileBudget(this.limits, () => compileSpec(spec, key));
    const shared = compiled.type === 'compiled' ? { ...compiled, parts: PushdownAutomaton.shared(compiled.parts) } : compiled;
    if (this.cache.size >= KEPT_SPECS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, shared);
    return shared;
  }

  /** Stops the thread (at shutdown): later compiles are done in place. */
  close(): void {
    this.closed = true;
    void this.thread?.then(
      (host) => host.terminate(),
      () => undefined,
    );
    this.thread = undefined;
  }

  private async onThread(spec: GrammarSpec, key: string): Promise<GrammarSpec> {
    const host = await this.start();
    // The thread did not answer in time: stop it (and every job it held) and start afresh.
    const timer = setTimeout(() => {
      void host.terminate(
        new CompileTimeout(`compiling the grammar took longer than ${2 * this.limits.ms} ms (the compile time backstop); simplify it`),
      );
    }, 2 * this.limits.ms);
    try {
      return await host.call('compile', { spec, key, limits: this.limits });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The running thread, started when there is none (a thread that stopped is replaced). */
  private start(): Promise<ThreadHost<GrammarProtocol>> {
    if (this.thread) return this.thread;
    const thread = ThreadHost.start<GrammarProtocol>(new URL('./grammar-worker-main.js', import.meta.url), {
      label: 'the grammar thread',
      errors: grammarErrors,
      unref: true,
    }).then(({ host }) => {
      host.onStop(() => {
        if (this.thread === thread) this.thread = undefined;
      });
      return host;
    });
    thread.catch(() => {
      if (this.thread === thread) this.thread = undefined;
    });
    this.thread = thread;
    return thread;
  }
}
