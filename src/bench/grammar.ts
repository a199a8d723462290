// Constrained decoding's cost: the same server, prompts and lengths with and without a JSON Schema
// grammar, measured in alternating rounds at each concurrency, through TGI's streaming route (a
// full token mask every step: its events carry each token's logprob) and through completions
// (greedy, no logprobs: the drawn token is checked first, a full mask only when it is refused).
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Process } from './llama-server.js';
import { startTgiNodeServer } from './tgi-node.js';
import { formatTable, runRequests, summarize, type Api, type LevelResult, type RequestsRun, type Target, type Workload } from './load.js';
import { cutToTokens, randomText } from './prompts.js';
import { ensureBenchModel, type BenchModelOptions } from './model/cached-model.js';

/** What a benchmark of two workloads in alternating rounds on one tgi-node takes. */
export interface RoundsBenchOptions extends BenchModelOptions {
  threads: number;
  concurrency: number[];
  promptTokens: number;
  newTokens: number;
  rounds: number;
  requestsPerStream: number;
  out?: string;
}

export interface GrammarBenchOptions extends RoundsBenchOptions {
  apis: Api[];
}

/** Structured output as applications ask for it: strings, bounded integers, a format, arrays of objects. */
const BENCH_SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    year: { type: 'integer', minimum: 1900, maximum: 2100 },
    tags: { type: 'array', items: { type: 'string', maxLength: 24 } },
    people: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, email: { type: 'string', format: 'email' } },
        required: ['name', 'age'],
      },
    },
  },
  required: ['title', 'year', 'tags', 'people'],
};

const MIN_ROUND_REQUESTS = 4;

export interface GrammarBenchRow {
  api: Api;
  concurrency: number;
  free: LevelResult;
  constrained: LevelResult;
  ratio: number;
}

export interface Measured {
  target: Target;
  workload: Workload;
}

/**
 * Two workloads measured in `rounds` alternating rounds at one concurrency (the order switching
 * each round, so that the machine's drift falls on both alike): each one's figures over its rounds.
 * The second workload takes the prompts after the first one's, so that neither finds the other's
 * prompts in the prefix cache.
 */
export async function alternatingRounds(
  pair: [Measured, Measured],
  concurrency: number,
  options: { rounds: number; requestsPerStream: number },
  label = '',
): Promise<[LevelResult, LevelResult]> {
  const requests = Math.max(MIN_ROUND_REQUESTS, concurrency * options.requestsPerStream);
  const workloads = [pair[0].workload, { ...pair[1].workload, prompt: (i: number) => pair[1].workload.prompt(i + requests) }];
  const runs: [RequestsRun[], RequestsRun[]] = [[], []];
  for (let round = 0; round < options.rounds; round++) {
    for (const k of round % 2 === 0 ? [0, 1] : [1, 0]) {
      console.error(`${label}x${concurrency} round ${round + 1}/${options.rounds}: ${workloads[k].name}`);
      runs[k].push(await runRequests(pair[k].target, workloads[k], concurrency, requests));
    }
  }
  return [0, 1].map((k) => summarize(pair[k].target.name, pair[k].workload.name, concurrency, runs[k])) as [LevelResult, LevelResult];
}

/** tgi-node on `model` with room for `maxTotalTokens` per sequence and as many sequences as the most streams. */
export async function startTgiNode(
  model: string,
  options: { threads: number; concurrency: number[] },
  maxTotalTokens: number,
  extraArgs: string[] = [],
): Promise<Process> {
  console.error(`starting tgi-node on ${model}`);
  return startTgiNodeServer(model, {
    threads: options.threads,
    extra: ['--max-batch-size', String(Math.max(...options.concurrency)), '--max-total-tokens', String(maxTotalTokens), ...extraArgs],
  });
}

/** Distinct random prompts of `tokens` tokens, enough for every round (so no prompt is served from the prefix cache). */
export async function randomPrompts(
  url: string,
  options: { concurrency: number[]; requestsPerStream: number },
  tokens: number,
): Promise<string[]> {
  const prompts: string[] = [];
  for (let i = 0; i < 2 * Math.max(...options.concurrency) * options.requestsPerStream + MIN_ROUND_REQUESTS; i++) {
    prompts.push(await cutToTokens(url, randomText(tokens * 3, 500 + i), tokens));
  }
  return prompts;
}

export async function benchGrammar(options: GrammarBenchOptions): Promise<GrammarBenchRow[]> {
  const model = await ensureBenchModel(options, (message) => console.error(message));
  const server = await startTgiNode(model, options, options.promptTokens + options.newTokens + 64);
  try {
    const prompts = await randomPrompts(server.url, options, options.promptTokens);
    const grammar = { type: 'json', value: BENCH_SCHEMA };
    const rows: GrammarBenchRow[] = [];
    for (const api of options.apis) {
      const target: Target = { name: 'tgi-node', url: server.url, api };
      const free: Workload = { name: 'free', prompt: (i) => prompts[i % prompts.length], maxNewTokens: options.newTokens };
      const constrained: Workload = { ...free, name: 'json schema', grammar };
      // Warm-up: the first constrained request also compiles the grammar and builds the vocabulary's trie.
      await runRequests(target, { ...constrained, maxNewTokens: 8 }, 1, 2);
      await runRequests(target, { ...free, maxNewTokens: 8 }, 1, 2);
      for (const concurrency of options.concurrency) {
        const [freeResult, constrainedResult] = await alternatingRounds(
          [
            { target, workload: free },
            { target, workload: constrained },
          ],
          concurrency,
          options,
          `${api} `,
        );
        rows.push({
          api,
          concurrency,
          free: freeResult,
          constrained: constrainedResult,
          ratio: constrainedResult.outputTokensPerSecond / freeResult.outputTokensPerSecond,
        });
      }
    }
    console.log(
      formatTable(rows.flatMap((r) => [r.free, r.constrained]).map((r, i) => ({ ...r, target: `${rows[Math.floor(i / 2)].api}` }))),
    );
    console.log('\napi     streams  free tok/s  constrained tok/s  ratio');
    for (const r of rows) {
      console.log(
        `${r.api.padEnd(8)}${String(r.concurrency).padStart(7)}${r.free.outputTokensPerSecond.toFixed(1).padStart(12)}${r.constrained.outputTokensPerSecond.toFixed(1).padStart(19)}${r.ratio.toFixed(3).padStart(7)}`,
      );
    }
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      const { out: _out, model: _model, ...settings } = options;
      const recorded = { ...settings, vocab: basename(options.vocab) };
      writeFileSync(
        join(options.out, 'grammar-results.json'),
        JSON.stringify({ model: basename(model), schema: BENCH_SCHEMA, options: recorded, rows }, null, 2),
      );
    }
    return rows;
  } finally {
    await server.stop();
  }
}
