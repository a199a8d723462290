// SIGTERM and SIGINT. The first drains: nothing new is accepted, running requests finish, and the
// process exits with 0 as soon as they have. A second signal, or the end of
// --graceful-termination-timeout, ends what still runs (a stream with an in-band error event, a
// whole response with an error) and exits with 1. Either way the spans not yet exported are sent
// first (for at most FLUSH_MS).
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Backend } from '../core/backend.js';
import type { InFlightRequests } from './in-flight.js';

/** How long stopped requests get to send their error before their connections are cut. */
const FLUSH_MS = 2_000;
/** setTimeout fires at once beyond this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ShutdownOptions {
  app: FastifyInstance;
  engine: Backend;
  requests: InFlightRequests;
  logger: Logger;
  graceSeconds: number;
  exit: (code: number) => void;
  /** The tracing to flush and stop before exiting, with --otlp-endpoint. */
  tracing?: { shutdown(): Promise<void> };
}

const running = (n: number) => `${n} request${n === 1 ? '' : 's'} running`;

export class GracefulShutdown {
  private closed: Promise<void> | undefined;
  private forced = false;

  constructor(private readonly options: ShutdownOptions) {}

  onSignal(signal: string): void {
    if (this.closed) this.force(`${signal} received again`);
    else this.drain(signal);
  }

  private drain(signal: string): void {
    const { app, engine, requests, logger, graceSeconds } = this.options;
    logger.info(
      `${signal} received: accepting no new requests; ${running(requests.count)}, waiting for them at most ${graceSeconds} s (a second signal stops them)`,
    );
    const deadline = setTimeout(
      () => this.force(`graceful termination timeout (${graceSeconds} s) reached`),
      Math.min(graceSeconds * 1000, MAX_TIMER_MS),
    );
    requests.drain();
    // The server stops listening now and reports closed once its last connection has ended, however
    // long the streams take. Fastify's close is left nothing to wait for: its hooks get only
    // pluginTimeout (10 s), and a hook that outlasts it fails the close, which stopped the engine
    // under the streams still running.
    const idle = new Promise<void>((resolve) => app.server.close(() => resolve()));
    this.closed = idle.then(() => app.close()).catch((error: unknown) => logger.error({ err: error }, 'closing the HTTP server failed'));
    void this.closed
      .then(() => engine.shutdown())
      .then(() => this.flushTraces())
      .then(() => {
        if (this.forced) return;
        clearTimeout(deadline);
        logger.info('all requests finished: exiting with code 0');
        this.options.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'stopping the engine failed: exiting with code 1');
        this.options.exit(1);
      });
  }

  private force(why: string): void {
    if (this.forced) return;
    this.forced = true;
    const { engine, requests, logger } = this.options;
    logger.warn(`${why}: stopping the ${running(requests.count)}, then exiting with code 1`);
    engine.stopAll();
    const flushed = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_MS));
    void Promise.race([this.closed, flushed])
      .then(() => {
        requests.closeAllConnections();
        return this.flushTraces();
      })
      .then(() => this.options.exit(1));
  }

  /** Exports the spans still buffered, giving up after FLUSH_MS (an unreachable collector). */
  private async flushTraces(): Promise<void> {
    const tracing = this.options.tracing;
    if (!tracing) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_MS)));
    const flushed = tracing
      .shutdown()
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'exporting the last spans failed'));
    await Promise.race([flushed, timeout]);
    clearTimeout(timer);
  }
}
