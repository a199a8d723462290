// Reading server-sent events: from a response as they come, or from a whole body's text.
import { readSseData } from '../../src/bench/sse-reader.js';
import { stream } from './http.js';

export interface SseEvent {
  data: string;
  json?: any;
  receivedAt: number;
}

/** Reads a whole SSE response into its `data:` events. */
export async function readSse(response: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of iterateSse(response)) events.push(event);
  return events;
}

export async function* iterateSse(response: Response): AsyncGenerator<SseEvent> {
  for await (const data of readSseData(response.body as unknown as AsyncIterable<Uint8Array>)) {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      json = undefined;
    }
    yield { data, json, receivedAt: performance.now() };
  }
}

/** The `data:` payloads of a whole SSE body's text. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

/** A streamed POST, once its first event has come: the events after it, and a way to leave. */
export async function openStream(
  url: string,
  body: unknown,
): Promise<{ first: SseEvent; events: AsyncGenerator<SseEvent>; abort: () => void }> {
  const controller = new AbortController();
  const response = await stream(url, body, controller.signal);
  const events = iterateSse(response);
  const first = await events.next();
  if (first.done) throw new Error(`the stream ended without an event (status ${response.status})`);
  return { first: first.value, events, abort: () => controller.abort() };
}
