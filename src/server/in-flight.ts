// The HTTP requests being answered, and the drain of shutdown: new requests are refused with a 503,
// and every connection is closed as soon as it is idle, keep-alive ones included.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { shuttingDownError } from './errors.js';

export class InFlightRequests {
  private active = 0;
  private draining = false;
  /** Open connections, with the requests each is answering. */
  private readonly connections = new Map<Socket, number>();

  constructor(private readonly app: FastifyInstance) {
    app.server.on('connection', (socket: Socket) => {
      this.connections.set(socket, 0);
      socket.once('close', () => this.connections.delete(socket));
      if (this.draining) socket.destroy();
    });
    app.server.on('request', (request, response) => {
      this.active++;
      const socket = request.socket;
      this.connections.set(socket, (this.connections.get(socket) ?? 0) + 1);
      response.once('close', () => {
        this.active--;
        const left = (this.connections.get(socket) ?? 1) - 1;
        if (this.connections.has(socket)) this.connections.set(socket, left);
        // A connection whose last response ends during the drain, a stream's, would otherwise stay
        // open until its keep-alive timeout.
        if (this.draining && left === 0) socket.destroy();
      });
    });
    app.addHook('onRequest', async () => {
      if (this.draining) throw shuttingDownError();
    });
  }

  get count(): number {
    return this.active;
  }

  /**
   * Refuses new requests from now on, and closes each connection that is or becomes idle. Node's
   * closeIdleConnections() leaves a connection that has not sent a request yet (a client's spare,
   * pooled connection), which would hold the server's close until the client drops it.
   */
  drain(): void {
    this.draining = true;
    for (const [socket, requests] of this.connections) if (requests === 0) socket.destroy();
    this.app.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.app.server.closeAllConnections();
  }
}
