// tgi-node as the benchmarks start it: the built launcher on a free loopback port, JSON logs, no
// cap on concurrent requests, and no response cache (llama-server has none, and rounds repeat
// requests) unless a benchmark measures the cache itself.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, NO_RESPONSE_CACHE, startProcess, type Process } from './llama-server.js';

const MAIN = join(resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..'), 'dist', 'src', 'cli', 'main.js');

export interface TgiNodeStart {
  threads: number;
  /** Further flags (batch sizes, adapters...). */
  extra?: string[];
  /** Keep tgi-node's response cache (the cache benchmark); default off. */
  responseCache?: boolean;
}

export async function startTgiNodeServer(model: string, start: TgiNodeStart): Promise<Process> {
  const port = await freePort();
  const args = [
    MAIN,
    '--model-id',
    model,
    '--hostname',
    '127.0.0.1',
    '--port',
    String(port),
    '--threads',
    String(start.threads),
    '--max-concurrent-requests',
    '1024',
    '--json-output',
    ...(start.responseCache ? [] : NO_RESPONSE_CACHE),
    ...(start.extra ?? []),
  ];
  return startProcess(process.execPath, args, `http://127.0.0.1:${port}`);
}
