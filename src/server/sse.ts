// Server-sent events as TGI frames them: `data: <json>\n\n`, a `:` comment after 15 s of silence.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { stringifyJson } from '../api/json-body.js';

const KEEP_ALIVE_MS = 15_000;

export class SseWriter {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly response: ServerResponse;

  /**
   * Starts the stream on the raw response of a hijacked `reply`. The head carries the headers the
   * hooks set on the reply (CORS, the response cache's), which a hijacked reply never writes itself.
   */
  constructor(reply: FastifyReply, headers: Record<string, string>) {
    const response = reply.raw;
    this.response = response;
    const set: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) set[name] = value;
    response.writeHead(200, {
      ...set,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
    response.flushHeaders();
    this.arm();
    response.on('close', () => this.stop());
  }

  /** True once the client has gone or the stream was ended. */
  get isClosed(): boolean {
    return this.closed || this.response.destroyed;
  }

  send(payload: unknown): void {
    this.write(`data: ${typeof payload === 'string' ? payload : stringifyJson(payload)}\n\n`);
  }

  end(): void {
    this.stop();
    if (!this.response.writableEnded) this.response.end();
  }

  private write(frame: string): void {
    if (this.isClosed) return;
    this.response.write(frame);
    this.arm();
  }

  /** (Re)starts the keep-alive countdown; refresh() spares a new timer for every token. */
  private arm(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => this.write(':\n\n'), KEEP_ALIVE_MS);
    this.timer.unref();
  }

  private stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
