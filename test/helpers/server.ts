// Starts the real server (real engine, real model) on a loopback port and talks to it over HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readSseData } from '../../src/bench/sse-reader.js';
import { requantizeGguf } from '../../src/bench/model/requantize.js';
import { stopChild } from '../../src/bench/llama-server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MAIN = join(root, 'dist', 'src', 'cli', 'main.js');
export const SHARED = resolve(root, '..', 'shared');
export const STORIES = join(SHARED, 'models', 'stories260K.gguf');
export const GREEDY_CONTINUATION = ', there was a little girl named Lily. She loved to play outside in the park.';

let quantized: Promise<string> | undefined;

/**
 * stories260K with its weights quantized to Q8_0 by our own quantizer. llama.cpp's CPU kernels
 * give quantized weights bit-identical logits whatever the batch holds; F32 weights do not.
 */
export function quantizedStories(): Promise<string> {
  quantized ??= (async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-test-')), 'stories260K-q8_0.gguf');
    await requantizeGguf(STORIES, path, 'q8_0');
    return path;
  })();
  return quantized;
}

export interface RunningServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  /** The startup summary record of the JSON log (model, limits, engine, url). */
  summary: Record<string, any>;
  stop(): Promise<void>;
}

export function startServer(args: string[] = [], env: Record<string, string> = {}, model = STORIES): Promise<RunningServer> {
  return spawnServer(args, env, model).ready;
}

/** A server whose port is open while its model still loads: `url` now, `ready` once loaded. */
export interface LoadingServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  ready: Promise<RunningServer>;
  stop(): Promise<void>;
}

export async function startLoadingServer(args: string[] = [], env: Record<string, string> = {}, model = STORIES): Promise<LoadingServer> {
  const spawned = spawnServer(args, env, model);
  spawned.ready.catch(() => undefined);
  const url = await spawned.open;
  return { url, process: spawned.process, logs: spawned.logs, ready: spawned.ready, stop: () => stopChild(spawned.process) };
}

function spawnServer(args: string[], env: Record<string, string>, model: string): { process: ChildProcess; logs: string[]; open: Promise<string>; ready: Promise<RunningServer> } {
  let opened: (url: string) => void = () => undefined;
  let failedToOpen: (error: Error) => void = () => undefined;
  const open = new Promise<string>((resolveOpen, rejectOpen) => {
    opened = resolveOpen;
    failedToOpen = rejectOpen;
  });
  const child = spawn(process.execPath, [MAIN, '--model-id', model, '--hostname', '127.0.0.1', '--port', '0', '--threads', '1', '--json-output', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const ready = new Promise<RunningServer>((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${logs.join('\n')}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        try {
          const record = JSON.parse(line) as { url?: string; loadingUrl?: string };
          if (record.loadingUrl) opened(record.loadingUrl.replace('localhost', '127.0.0.1'));
          if (record.url) {
            clearTimeout(timer);
            resolvePromise({
              url: record.url.replace('localhost', '127.0.0.1'),
              process: child,
              logs,
              summary: record,
              stop: () => stopChild(child),
            });
          }
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      const error = new Error(`server exited with code ${code}:\n${logs.join('\n')}`);
      failedToOpen(error);
      reject(error);
    });
  });
  return { process: child, logs, open, ready };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

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

export function stream(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

export async function metricValue(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
