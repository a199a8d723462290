// A request's events as the Backend contract gives them (RequestStream): pushed in order by whoever
// runs the request (the engine thread's client, or a fake in tests), read as an async iterator.
import type { RequestEvent, RequestStream } from './backend.js';

/** Events of one request, in order, as an async iterator; return() cancels the request. */
export class RequestEventStream implements RequestStream {
  private readonly buffered: RequestEvent[] = [];
  private waiter: ((result: IteratorResult<RequestEvent>) => void) | undefined;
  private done = false;

  constructor(
    readonly id: number,
    private readonly onCancel: () => void,
  ) {}

  push(event: RequestEvent): void {
    if (this.done) return;
    const final = event.kind === 'error' || (event.kind === 'token' && event.finish !== undefined);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: event, done: false });
    } else {
      this.buffered.push(event);
    }
    if (final) this.done = true;
  }

  next(): Promise<IteratorResult<RequestEvent>> {
    const event = this.buffered.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** True once the stream has had its last event or was cancelled: nothing more is pushed. */
  get ended(): boolean {
    return this.done;
  }

  /** Stops the request if it is still queued or running. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.onCancel();
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  return(): Promise<IteratorResult<RequestEvent>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
