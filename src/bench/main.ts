#!/usr/bin/env node
// Load generator: N concurrent streaming clients against a running TGI-compatible server.
// Talks HTTP only; prints output tokens/s, requests/s, TTFT and inter-token latency per level.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { parseInteger } from '../cli/options.js';
import { readSseData } from './sse-reader.js';

interface RequestResult {
  ok: boolean;
  tokens: number;
  ttftMs: number;
  interTokenMs: number[];
  error?: string;
}

export interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  outputTokensPerSecond: number;
  requestsPerSecond: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  itlP50Ms: number;
  itlP99Ms: number;
}

const PROMPT_WORDS = 'Once upon a time there was a little girl named Lily who loved to play outside in the park with her friends'.split(' ');

function promptOfWords(words: number, salt: number): string {
  const out: string[] = [`Story ${salt}:`];
  for (let i = 0; out.length < words; i++) out.push(PROMPT_WORDS[(i + salt) % PROMPT_WORDS.length]);
  return out.join(' ');
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function streamOnce(url: string, inputs: string, maxNewTokens: number): Promise<RequestResult> {
  const started = performance.now();
  let last = started;
  let ttft = NaN;
  const gaps: number[] = [];
  let tokens = 0;
  try {
    const response = await fetch(`${url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs, parameters: { max_new_tokens: maxNewTokens } }),
    });
    if (!response.ok || !response.body) return { ok: false, tokens: 0, ttftMs: NaN, interTokenMs: [], error: `HTTP ${response.status}` };
    for await (const data of readSseData(response.body as unknown as AsyncIterable<Uint8Array>)) {
      const event = JSON.parse(data) as { error?: string; token?: unknown };
      if (event.error) return { ok: false, tokens, ttftMs: ttft, interTokenMs: gaps, error: event.error };
      const now = performance.now();
      if (tokens === 0) ttft = now - started;
      else gaps.push(now - last);
      last = now;
      tokens++;
    }
    return { ok: true, tokens, ttftMs: ttft, interTokenMs: gaps };
  } catch (error) {
    return { ok: false, tokens, ttftMs: ttft, interTokenMs: gaps, error: String(error) };
  }
}

export async function runLevel(url: string, concurrency: number, requests: number, promptWords: number, maxNewTokens: number): Promise<LevelResult> {
  let next = 0;
  const results: RequestResult[] = [];
  const started = performance.now();
  const client = async () => {
    while (next < requests) {
      const id = next++;
      results.push(await streamOnce(url, promptOfWords(promptWords, id), maxNewTokens));
      process.stderr.write(`\r  ${concurrency} clients: ${results.length}/${requests} requests`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  const ok = results.filter((r) => r.ok);
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  const ttfts = ok.map((r) => r.ttftMs);
  const gaps = ok.flatMap((r) => r.interTokenMs);
  return {
    concurrency,
    requests,
    errors: results.length - ok.length,
    seconds,
    outputTokensPerSecond: tokens / seconds,
    requestsPerSecond: ok.length / seconds,
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    itlP50Ms: percentile(gaps, 50),
    itlP99Ms: percentile(gaps, 99),
  };
}

function formatTable(rows: LevelResult[]): string {
  const header = ['clients', 'requests', 'errors', 'out tok/s', 'req/s', 'TTFT p50 ms', 'TTFT p99 ms', 'ITL p50 ms', 'ITL p99 ms'];
  const lines = rows.map((r) => [r.concurrency, r.requests, r.errors, r.outputTokensPerSecond.toFixed(1), r.requestsPerSecond.toFixed(2), r.ttftP50Ms.toFixed(1), r.ttftP99Ms.toFixed(1), r.itlP50Ms.toFixed(2), r.itlP99Ms.toFixed(2)].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [fmt(header), ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const program = new Command('tgi-node-bench')
    .description('Streams generations from a running TGI-compatible server with 1, 4, 16... concurrent clients and reports throughput and latency.')
    .option('--url <url>', 'server base URL', 'http://127.0.0.1:3000')
    .option('--concurrency <list>', 'comma-separated client counts', '1,4,16')
    .option('--requests-per-client <n>', 'requests each client sends per level', parseInteger(1), 2)
    .option('--prompt-words <n>', 'approximate prompt length in words', parseInteger(1), 32)
    .option('--max-new-tokens <n>', 'tokens generated per request', parseInteger(1), 128)
    .option('--json <file>', 'also write the results as JSON')
    .parse(process.argv);
  const options = program.opts<{ url: string; concurrency: string; requestsPerClient: number; promptWords: number; maxNewTokens: number; json?: string }>();
  const levels = options.concurrency.split(',').map((v) => parseInteger(1)(v.trim()));
  const url = options.url.replace(/\/$/, '');
  const info = await (await fetch(`${url}/info`)).json().catch(() => ({}));
  console.log(`Benchmarking ${url} (${(info as { model_id?: string }).model_id ?? 'unknown model'}): ${options.promptWords}-word prompts, ${options.maxNewTokens} new tokens, streaming`);
  await runLevel(url, 1, 1, options.promptWords, 8); // warm-up
  const rows: LevelResult[] = [];
  for (const concurrency of levels) rows.push(await runLevel(url, concurrency, concurrency * options.requestsPerClient, options.promptWords, options.maxNewTokens));
  console.log(formatTable(rows));
  if (options.json) writeFileSync(options.json, JSON.stringify({ url, model: info, results: rows }, null, 2));
}

void main();
