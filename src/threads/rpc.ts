// Calls and events between a thread and its host, typed by a protocol: the host starts the thread
// and waits for it to say it is ready (or why it could not start, as a typed error), makes calls
// that the thread answers (one pending map, errors raised again as their class by the codec), and
// both sides send one-way events. When the thread crashes, exits or is terminated, every pending
// call is rejected with a ThreadStopped error (or the reason given to terminate).
import { parentPort, Worker, type MessagePort, type Transferable } from 'node:worker_threads';
import { ErrorCodec, type EncodedError } from './error-codec.js';

/** What a pair of threads say to each other. */
export interface Protocol {
  /** Calls the host makes and the thread answers: method -> its params and result. */
  calls: Record<string, { params: unknown; result: unknown }>;
  /** One-way events from the host to the thread: name -> payload. */
  toThread: Record<string, unknown>;
  /** One-way events from the thread to the host, from its start on (load progress, logs...). */
  toHost: Record<string, unknown>;
  /** What the thread is ready with. */
  ready: unknown;
}

type Method<P extends Protocol> = keyof P['calls'] & string;
type Params<P extends Protocol, M extends Method<P>> = P['calls'][M]['params'];
type Result<P extends Protocol, M extends Method<P>> = P['calls'][M]['result'];
export type EventHandlers<E extends Record<string, unknown>> = { [N in keyof E]?: (payload: E[N]) => void };

type ToThread = { kind: 'call'; id: number; method: string; params: unknown } | { kind: 'event'; name: string; payload: unknown };
type FromThread =
  | { kind: 'ready'; value: unknown }
  | { kind: 'failed'; error: EncodedError }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: EncodedError }
  | { kind: 'event'; name: string; payload: unknown };

/** A thread that is gone: it crashed, exited, or was terminated. */
export class ThreadStopped extends Error {
  override readonly name = 'ThreadStopped';

  /** `code`: the thread's exit code, when it exited by itself. */
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** A value sent with the buffers it hands over (moved, not copied). */
export class Transfer<T> {
  constructor(
    readonly value: T,
    readonly list: readonly Transferable[],
  ) {}
}

export interface StartOptions<P extends Protocol> {
  /** Names the thread in errors: "the grammar thread". */
  label: string;
  workerData?: unknown;
  /** The errors both sides exchange as their class (the same codec on the thread's side). */
  errors?: ErrorCodec;
  /** Handlers of the thread's events, from its start on (replaced or added to later with `on`). */
  on?: EventHandlers<P['toHost']>;
  /** Once ready, it does not keep the process alive. */
  unref?: boolean;
  /**
   * A thread that failed to start is terminated, unless `keepFailed`: then it is left to end with
   * the process, unreferenced (a thread that may own a process-wide callback must not end).
   */
  keepFailed?: boolean;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The host's handle on a thread speaking protocol P. */
export class ThreadHost<P extends Protocol> {
  private readonly pending = new Map<number, Pending>();
  private lastId = 0;
  private stopError: Error | undefined;
  private readonly stopListeners: ((error: Error) => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    private readonly label: string,
    private readonly errors: ErrorCodec,
    private readonly handlers: EventHandlers<P['toHost']>,
  ) {}

  /** Starts the thread at `url`; resolves once it is ready, rejects with its start failure. */
  static start<P extends Protocol>(url: URL, options: StartOptions<P>): Promise<{ host: ThreadHost<P>; ready: P['ready'] }> {
    const worker = new Worker(url, { workerData: options.workerData });
    const host = new ThreadHost<P>(worker, options.label, options.errors ?? new ErrorCodec(), { ...options.on } as EventHandlers<
      P['toHost']
    >);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (message: FromThread) => {
        if (message.kind === 'ready') {
          started = true;
          if (options.unref) worker.unref();
          resolve({ host, ready: message.value as P['ready'] });
        } else if (message.kind === 'failed') {
          host.stopError = new ThreadStopped(`${host.label} failed to start`);
          reject(host.errors.decode(message.error));
          if (options.keepFailed) worker.unref();
          else void worker.terminate();
        } else {
          host.onMessage(message);
        }
      });
      worker.on('error', (error) => {
        if (started) host.stop(new ThreadStopped(`${host.label} crashed: ${error.message}`));
        else reject(error);
      });
      worker.on('exit', (code) => {
        if (started) host.stop(new ThreadStopped(`${host.label} exited`, code));
        else reject(new ThreadStopped(`${host.label} exited with code ${code} while loading`, code));
      });
    });
  }

  /** False once the thread has stopped. */
  get alive(): boolean {
    return this.stopError === undefined;
  }

  /** Calls `method` on the thread; rejects with the thread's error, as its class. */
  call<M extends Method<P>>(method: M, params: Params<P, M>, transfer: readonly Transferable[] = []): Promise<Result<P, M>> {
    return new Promise((resolve, reject) => {
      if (this.stopError) return reject(this.stopError);
      const id = ++this.lastId;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ kind: 'call', id, method, params }, transfer);
    });
  }

  /** Sends the thread a one-way event (dropped once the thread has stopped). */
  notify<N extends keyof P['toThread'] & string>(name: N, payload: P['toThread'][N], transfer: readonly Transferable[] = []): void {
    if (this.stopError) return;
    this.post({ kind: 'event', name, payload }, transfer);
  }

  /** Handles the thread's `name` events (replacing the handler given before). */
  on<N extends keyof P['toHost']>(name: N, handler: (payload: P['toHost'][N]) => void): void {
    this.handlers[name] = handler;
  }

  /** Called once, when the thread stops, after its pending calls were rejected. */
  onStop(listener: (error: Error) => void): void {
    this.stopListeners.push(listener);
  }

  /** Terminates the thread; pending calls are rejected with `reason`. */
  async terminate(reason: Error = new ThreadStopped(`${this.label} stopped`)): Promise<void> {
    this.stop(reason);
    await this.worker.terminate();
  }

  private post(message: ToThread, transfer: readonly Transferable[]): void {
    this.worker.postMessage(message, transfer as Transferable[]);
  }

  private onMessage(message: FromThread): void {
    if (message.kind === 'event') {
      (this.handlers[message.name] as ((payload: unknown) => void) | undefined)?.(message.payload);
      return;
    }
    if (message.kind !== 'result' && message.kind !== 'error') return;
    const call = this.pending.get(message.id);
    if (!call) return;
    this.pending.delete(message.id);
    if (message.kind === 'result') call.resolve(message.value);
    else call.reject(this.errors.decode(message.error));
  }

  private stop(error: Error): void {
    if (this.stopError) return;
    this.stopError = error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    for (const listener of this.stopListeners) listener(error);
  }
}

export type CallHandlers<P extends Protocol> = {
  [M in Method<P>]: (params: Params<P, M>) => Result<P, M> | Transfer<Result<P, M>> | Promise<Result<P, M> | Transfer<Result<P, M>>>;
};

/** The thread's side: send events, then answer calls and events once ready (or fail to start). */
export class ThreadPort<P extends Protocol> {
  constructor(
    private readonly errors: ErrorCodec = new ErrorCodec(),
    private readonly port: MessagePort = parentPort!,
  ) {}

  /** Sends the host a one-way event. */
  emit<N extends keyof P['toHost'] & string>(name: N, payload: P['toHost'][N], transfer: readonly Transferable[] = []): void {
    this.post({ kind: 'event', name, payload }, transfer);
  }

  /** Answers calls with `calls` and events with `events`, then tells the host the thread is ready. */
  serve(ready: P['ready'], calls: CallHandlers<P>, events: EventHandlers<P['toThread']> = {}): void {
    this.port.on('message', (message: ToThread) => {
      if (message.kind === 'event') (events[message.name] as ((payload: unknown) => void) | undefined)?.(message.payload);
      else this.answer(message.id, () => (calls[message.method] as (params: unknown) => unknown)(message.params));
    });
    this.post({ kind: 'ready', value: ready }, []);
  }

  /**
   * Tells the host the thread could not start: its `start` rejects with `error` (as its class).
   * `stay` keeps the thread (idle) until the process ends.
   */
  fail(error: unknown, stay = false): void {
    if (stay) this.port.on('message', () => undefined);
    this.post({ kind: 'failed', error: this.errors.encode(error) }, []);
  }

  /** Stops listening: the thread ends when nothing else holds it. */
  close(): void {
    this.port.close();
  }

  private answer(id: number, run: () => unknown): void {
    const done = (value: unknown) => {
      if (value instanceof Transfer) this.post({ kind: 'result', id, value: value.value }, value.list);
      else this.post({ kind: 'result', id, value }, []);
    };
    const failed = (error: unknown) => this.post({ kind: 'error', id, error: this.errors.encode(error) }, []);
    try {
      const value = run();
      if (value instanceof Promise) value.then(done, failed);
      else done(value);
    } catch (error) {
      failed(error);
    }
  }

  private post(message: FromThread, transfer: readonly Transferable[]): void {
    this.port.postMessage(message, transfer as Transferable[]);
  }
}
