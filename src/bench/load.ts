// The load generator: concurrent streaming clients against a TGI or OpenAI-compatible server.
import { readSseData } from './sse-reader.js';

/** `chat`: /v1/chat/completions with the prompt as one user message (tgi-node and OpenAI-compatible servers). */
export type Api = 'tgi' | 'openai' | 'chat';

export interface Target {
  name: string;
  url: string;
  api: Api;
}

export interface Workload {
  name: string;
  /** Prompt of the i-th request (cycled). */
  prompt: (index: number) => string;
  maxNewTokens: number;
  /** Tokens to generate for the i-th request, when they vary. */
  newTokens?: (index: number) => number;
  /** A TGI grammar (`{"type": "json", "value": schema}`) constraining every request. */
  grammar?: unknown;
  /** With the chat api: OpenAI tools offered with every request (`tool_choice` auto). */
  tools?: unknown[];
  /** The LoRA adapter of the i-th request (undefined: the base model): `adapter_id` on TGI's API, `model` on OpenAI's. */
  adapter?: (index: number) => string | undefined;
  /** With the chat api: the user message's content of the i-th request (content parts, images...) instead of its prompt. */
  content?: (index: number) => unknown;
}

/** What a request asks beyond its prompt and length. */
interface RequestExtras {
  grammar?: unknown;
  tools?: unknown[];
  adapter?: string;
  content?: unknown;
}

interface RequestResult {
  ok: boolean;
  tokens: number;
  ttftMs: number;
  interTokenMs: number[];
  error?: string;
}

export interface RequestsRun {
  results: RequestResult[];
  seconds: number;
}

export interface LevelResult {
  target: string;
  workload: string;
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
  firstError?: string;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function requestBody(
  api: Api,
  prompt: string,
  maxNewTokens: number,
  { grammar, tools, adapter, content }: RequestExtras,
): { path: string; body: unknown } {
  const model = adapter ? { model: adapter } : {};
  if (api === 'chat') {
    const messages = [{ role: 'user', content: content ?? prompt }];
    return {
      path: '/v1/chat/completions',
      body: {
        ...model,
        messages,
        max_tokens: maxNewTokens,
        temperature: 0,
        stream: true,
        ignore_eos: true,
        stream_options: { include_usage: true },
        ...(tools ? { tools } : {}),
      },
    };
  }
  if (api === 'tgi')
    return {
      path: '/generate_stream',
      body: {
        inputs: prompt,
        parameters: { max_new_tokens: maxNewTokens, ...(grammar ? { grammar } : {}), ...(adapter ? { adapter_id: adapter } : {}) },
      },
    };
  // Greedy, exactly maxNewTokens tokens (ignore_eos is a llama.cpp extension other servers ignore);
  // a grammar goes as tgi-node's `grammar` extension of completions.
  return {
    path: '/v1/completions',
    body: {
      ...model,
      prompt,
      max_tokens: maxNewTokens,
      temperature: 0,
      stream: true,
      ignore_eos: true,
      cache_prompt: true,
      stream_options: { include_usage: true },
      ...(grammar ? { grammar } : {}),
    },
  };
}

/** The fields of a streamed event (TGI's or OpenAI's) the load generator reads. */
interface StreamEvent {
  error?: unknown;
  token?: unknown;
  choices?: { delta?: { content?: string | null; tool_calls?: unknown } }[];
  usage?: { completion_tokens?: number };
}

/** Counts the tokens of one SSE event: TGI sends one token per event, OpenAI one text chunk per event. */
function eventTokens(api: Api, event: StreamEvent): number {
  if (event.error) throw new Error(typeof event.error === 'string' ? event.error : JSON.stringify(event.error));
  if (api === 'tgi') return event.token ? 1 : 0;
  if (!Array.isArray(event.choices) || event.choices.length === 0) return 0;
  // A chat stream opens with a role-only chunk before any token: not a token.
  if (api === 'chat') return event.choices.some((c) => c.delta?.content || c.delta?.tool_calls) ? 1 : 0;
  return 1;
}

async function streamOnce(target: Target, prompt: string, maxNewTokens: number, extras: RequestExtras = {}): Promise<RequestResult> {
  const started = performance.now();
  let last = started;
  let ttft = NaN;
  const gaps: number[] = [];
  let tokens = 0;
  let usage: number | undefined;
  try {
    const { path, body } = requestBody(target.api, prompt, maxNewTokens, extras);
    // Every request generated: a response cache (tgi-node's, or one in front of any server that
    // honours the header) would answer the repeated prompts of a run without generating.
    const headers = { 'content-type': 'application/json', 'x-use-cache': 'false' };
    const response = await fetch(`${target.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!response.ok || !response.body)
      return { ok: false, tokens: 0, ttftMs: NaN, interTokenMs: [], error: `HTTP ${response.status}: ${await response.text()}` };
    for await (const data of readSseData(response.body as unknown as AsyncIterable<Uint8Array>)) {
      if (data === '[DONE]') break;
      const event = JSON.parse(data) as StreamEvent;
      if (event.usage?.completion_tokens !== undefined) usage = event.usage.completion_tokens;
      const n = eventTokens(target.api, event);
      if (n === 0) continue;
      const now = performance.now();
      if (tokens === 0) ttft = now - started;
      else gaps.push(now - last);
      last = now;
      tokens += n;
    }
    return { ok: true, tokens: usage ?? tokens, ttftMs: ttft, interTokenMs: gaps };
  } catch (error) {
    return { ok: false, tokens, ttftMs: ttft, interTokenMs: gaps, error: error instanceof Error ? error.message : String(error) };
  }
}

export async function runLevel(
  target: Target,
  workload: Workload,
  concurrency: number,
  requests: number,
  onProgress?: (done: number) => void,
): Promise<LevelResult> {
  const run = await runRequests(target, workload, concurrency, requests, onProgress);
  return summarize(target.name, workload.name, concurrency, [run]);
}

/** `requests` requests over `concurrency` streams; each request's figures and the wall time. */
export async function runRequests(
  target: Target,
  workload: Workload,
  concurrency: number,
  requests: number,
  onProgress?: (done: number) => void,
): Promise<RequestsRun> {
  let next = 0;
  const results: RequestResult[] = [];
  const started = performance.now();
  const client = async () => {
    while (next < requests) {
      const index = next++;
      const extras = {
        grammar: workload.grammar,
        tools: workload.tools,
        adapter: workload.adapter?.(index),
        content: workload.content?.(index),
      };
      results.push(await streamOnce(target, workload.prompt(index), workload.newTokens?.(index) ?? workload.maxNewTokens, extras));
      onProgress?.(results.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  return { results, seconds };
}

/** One level's figures over one or more runs (rounds) of it: tokens/s over their total time. */
export function summarize(target: string, workload: string, concurrency: number, runs: RequestsRun[]): LevelResult {
  const results = runs.flatMap((r) => r.results);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const ok = results.filter((r) => r.ok);
  const tokens = ok.reduce((sum, r) => sum + r.tokens, 0);
  const gaps = ok.flatMap((r) => r.interTokenMs);
  const ttfts = ok.map((r) => r.ttftMs);
  return {
    target,
    workload,
    concurrency,
    requests: results.length,
    errors: results.length - ok.length,
    seconds,
    outputTokensPerSecond: tokens / seconds,
    requestsPerSecond: ok.length / seconds,
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    itlP50Ms: percentile(gaps, 50),
    itlP99Ms: percentile(gaps, 99),
    firstError: results.find((r) => !r.ok)?.error,
  };
}

export function formatTable(rows: LevelResult[], reference?: (row: LevelResult) => LevelResult | undefined): string {
  const header = [
    'server',
    'workload',
    'streams',
    'reqs',
    'errors',
    'out tok/s',
    'req/s',
    'TTFT p50',
    'TTFT p99',
    'ITL p50',
    'ITL p99',
    'tok/s ratio',
    'TTFT p99 ratio',
  ];
  const lines = rows.map((r) => {
    const ref = reference?.(r);
    return [
      r.target,
      r.workload,
      String(r.concurrency),
      String(r.requests),
      String(r.errors),
      r.outputTokensPerSecond.toFixed(1),
      r.requestsPerSecond.toFixed(2),
      `${r.ttftP50Ms.toFixed(0)} ms`,
      `${r.ttftP99Ms.toFixed(0)} ms`,
      `${r.itlP50Ms.toFixed(1)} ms`,
      `${r.itlP99Ms.toFixed(1)} ms`,
      ref ? (r.outputTokensPerSecond / ref.outputTokensPerSecond).toFixed(2) : '',
      ref ? (r.ttftP99Ms / ref.ttftP99Ms).toFixed(2) : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}
