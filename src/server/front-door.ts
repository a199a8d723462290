// The HTTP port, opened before the model is downloaded and loaded. While loading, /health answers
// 503 with the progress, and every other route 503 with the Inference API's loading body, unless the
// request says `x-wait-for-model: true`: that one is held and served once the app is ready.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { unhealthyError } from './errors.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export type LoadingPhase = 'downloading' | 'loading';

const HEALTH_PATHS = new Set(['/health', '/ping', '/']);

export const WAIT_FOR_MODEL_HEADER = 'x-wait-for-model';

/** Where loading stands: the phase, its fraction done, and an estimate of the time left. */
export class LoadingStatus {
  phase: LoadingPhase = 'loading';
  fraction = 0;
  private phaseStarted = performance.now();

  constructor(readonly modelId: string) {}

  update(phase: LoadingPhase, fraction: number): void {
    if (phase !== this.phase) {
      this.phase = phase;
      this.phaseStarted = performance.now();
    }
    this.fraction = Math.min(1, Math.max(0, fraction));
  }

  /**
   * Seconds left in the current phase at the pace so far (a download is usually followed by a load
   * of a few seconds more); 1 until there is a pace to go by.
   */
  estimatedSeconds(): number {
    const elapsed = (performance.now() - this.phaseStarted) / 1000;
    if (this.fraction <= 0.01 || elapsed <= 0) return 1;
    return Math.max(0.1, Math.round((elapsed / this.fraction) * (1 - this.fraction) * 10) / 10);
  }
}

function waitsForModel(request: IncomingMessage): boolean {
  return String(request.headers[WAIT_FOR_MODEL_HEADER] ?? '').toLowerCase() === 'true';
}

function sendJson(response: ServerResponse, status: number, body: unknown, retryAfter: number): void {
  response.writeHead(status, { 'content-type': 'application/json', 'retry-after': String(Math.max(1, Math.ceil(retryAfter))) });
  response.end(JSON.stringify(body));
}

export class FrontDoor {
  private handler: Handler | undefined;
  private readonly held = new Set<() => void>();

  private constructor(
    readonly server: Server,
    readonly status: LoadingStatus,
    /** Requests held at most (--max-concurrent-requests); beyond, a waiting request gets the 503 too. */
    private readonly maxHeld: number,
  ) {}

  /** Listens at once; until `open()` gives it the app, it answers as a loading server does. */
  static listen(host: string, port: number, status: LoadingStatus, maxHeld: number): Promise<FrontDoor> {
    // The handler runs only once a request comes, after `door` is set.
    const server = createServer((request, response) => door.dispatch(request, response));
    const door = new FrontDoor(server, status, maxHeld);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(door);
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** From now on requests go to the app; the held ones first. */
  open(handler: Handler): void {
    this.handler = handler;
    const held = [...this.held];
    this.held.clear();
    for (const release of held) release();
  }

  private dispatch(request: IncomingMessage, response: ServerResponse): void {
    if (this.handler) return this.handler(request, response);
    if (waitsForModel(request) && this.held.size < this.maxHeld) {
      // Paused until then: the app reads the body when it gets the request. A client that leaves
      // meanwhile is forgotten.
      const release = () => this.handler!(request, response);
      this.held.add(release);
      response.once('close', () => this.held.delete(release));
      return;
    }
    const path = (request.url ?? '/').split('?')[0];
    const status = this.status;
    const estimated = status.estimatedSeconds();
    if (request.method === 'OPTIONS') {
      response.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': `authorization, content-type, x-use-cache, ${WAIT_FOR_MODEL_HEADER}`,
      });
      response.end();
      return;
    }
    // The request's body is not needed: drain it so the connection can be reused.
    request.resume();
    if (HEALTH_PATHS.has(path) && (request.method === 'GET' || request.method === 'HEAD')) {
      sendJson(
        response,
        503,
        { ...unhealthyError().toJSON(), status: status.phase, progress: Number(status.fraction.toFixed(4)), estimated_time: estimated },
        estimated,
      );
      return;
    }
    sendJson(
      response,
      503,
      { error: `Model ${status.modelId} is currently loading`, error_type: 'loading', estimated_time: estimated },
      estimated,
    );
  }
}
