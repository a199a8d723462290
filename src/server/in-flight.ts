// The HTTP requests being answered, and the drain of shutdown: new requests are refused with a 503,
// and every connection is closed as soon as it is idle, keep-alive ones included.
import type { FastifyInstance } from 'fastify';
import { shuttingDownError } from './errors.js';

export class InFlightRequests {
  private active = 0;
  private draining = false;

  constructor(private readonly app: FastifyInstance) {
    app.server.on('request', (_request, response) => {
      this.active++;
      response.once('close', () => {
        this.active--;
        // The server closes idle connections once, when it closes; one whose response ends later,
        // a stream's, would otherwise stay open until its keep-alive timeout.
        if (this.draining) app.server.closeIdleConnections();
      });
    });
    app.addHook('onRequest', async () => {
      if (this.draining) throw shuttingDownError();
    });
  }

  get count(): number {
    return this.active;
  }

  /** Refuses new requests from now on, and closes each connection that is or becomes idle. */
  drain(): void {
    this.draining = true;
    this.app.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.app.server.closeAllConnections();
  }
}
