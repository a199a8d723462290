// What the response cache saves: the same greedy request sent again and again to one tgi-node, the
// first answer (a miss, generated), the repeats (hits), and as the reference the same request with
// `x-use-cache: false` (generated every time), alternating with the hits. Whole answers are timed,
// streamed or not.
import { basename } from 'node:path';
import { percentile } from './load.js';
import { startTgiNodeServer } from './tgi-node.js';

export interface CacheBenchOptions {
  model: string;
  threads: number;
  newTokens: number;
  repeats: number;
}

export interface CacheBenchRow {
  route: string;
  stream: boolean;
  /** Tokens each answer holds. */
  tokens: number;
  missMs: number;
  uncachedP50Ms: number;
  hitP50Ms: number;
  /** Uncached over hit median time. */
  speedup: number;
}

interface Timed {
  ms: number;
  cache: string | null;
  text: string;
  headers: Headers;
}

async function timed(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}: ${text}`);
  return { ms, cache: response.headers.get('x-cache'), text, headers: response.headers };
}

/** Tokens of an answer: what its headers or usage say, or its events for a native stream. */
function tokensOf(route: string, stream: boolean, answer: Timed): number {
  if (route === '/generate_stream') return answer.text.split('\n\n').filter((frame) => frame.startsWith('data: ')).length;
  if (!stream) return Number(answer.headers.get('x-generated-tokens'));
  const usage = answer.text
    .split('\n\n')
    .map((frame) => frame.slice(6))
    .filter((data) => data.includes('"usage":{'))
    .map((data) => (JSON.parse(data) as { usage: { completion_tokens: number } }).usage.completion_tokens);
  return usage.at(-1) ?? NaN;
}

export async function benchCache(options: CacheBenchOptions): Promise<CacheBenchRow[]> {
  console.error(`starting tgi-node on ${basename(options.model)}`);
  const server = await startTgiNodeServer(options.model, { threads: options.threads, responseCache: true });
  try {
    const prompt = 'Once upon a time';
    const chat = { messages: [{ role: 'user', content: prompt }], max_tokens: options.newTokens, temperature: 0 };
    const cases: { route: string; stream: boolean; body: unknown }[] = [
      { route: '/generate', stream: false, body: { inputs: prompt, parameters: { max_new_tokens: options.newTokens } } },
      { route: '/generate_stream', stream: true, body: { inputs: prompt, parameters: { max_new_tokens: options.newTokens } } },
      { route: '/v1/chat/completions', stream: false, body: chat },
      { route: '/v1/chat/completions', stream: true, body: { ...chat, stream: true, stream_options: { include_usage: true } } },
    ];
    const bypass = { 'x-use-cache': 'false' };
    const rows: CacheBenchRow[] = [];
    for (const { route, stream, body } of cases) {
      const url = `${server.url}${route}`;
      // Warm-up, kept out of the cache: JavaScript compiled on first use, the prompt's KV cells.
      for (let i = 0; i < 2; i++) await timed(url, body, bypass);
      const miss = await timed(url, body);
      if (miss.cache !== 'miss') throw new Error(`${route}: the first request was not a miss (x-cache: ${miss.cache})`);
      const uncached: number[] = [];
      const hits: number[] = [];
      // Alternating, so that a slower spell of a shared machine falls on both alike.
      for (let i = 0; i < options.repeats; i++) {
        uncached.push((await timed(url, body, bypass)).ms);
        const hit = await timed(url, body);
        if (hit.cache !== 'hit' || hit.text !== miss.text)
          throw new Error(`${route}: repeat ${i + 1} was not a hit with the same body (x-cache: ${hit.cache})`);
        hits.push(hit.ms);
      }
      const uncachedP50Ms = percentile(uncached, 50);
      const hitP50Ms = percentile(hits, 50);
      rows.push({
        route,
        stream,
        tokens: tokensOf(route, stream, miss),
        missMs: miss.ms,
        uncachedP50Ms,
        hitP50Ms,
        speedup: uncachedP50Ms / hitP50Ms,
      });
    }
    return rows;
  } finally {
    await server.stop();
  }
}

export function formatCacheTable(rows: CacheBenchRow[]): string {
  const header = ['route', 'stream', 'tokens', 'miss ms', 'uncached p50 ms', 'hit p50 ms', 'uncached / hit'];
  const lines = rows.map((r) => [
    r.route,
    r.stream ? 'yes' : 'no',
    String(r.tokens),
    r.missMs.toFixed(1),
    r.uncachedP50Ms.toFixed(1),
    r.hitP50Ms.toFixed(2),
    `${r.speedup.toFixed(1)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}
