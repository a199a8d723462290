// Mixed-adapter load: one tgi-node serving the benchmark model with four LoRA adapters (written by
// our own GGUF writer), 16 streams whose requests go to 1, 2 or 4 adapters in turn, and the base
// model alone as a reference. llama.cpp applies one adapter set per decode, so the adapters' streams
// take turns by step: tokens/s against the single-adapter figure shows what mixing costs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runRequests, summarize, type LevelResult, type RequestsRun, type Target } from './load.js';
import { promptsOfLength } from './prompts.js';
import { ensureBenchModel, type BenchModelOptions } from './model/cached-model.js';
import { writeLoraAdapter } from './model/lora.js';
import { cacheDir, type Process } from './llama-server.js';
import { startTgiNodeServer } from './tgi-node.js';

export interface LoraBenchOptions extends BenchModelOptions {
  threads: number;
  concurrency: number;
  adapters: number[];
  rank: number;
  promptTokens: number;
  newTokens: number;
  rounds: number;
  requestsPerStream: number;
}

export interface LoraBenchRow extends LevelResult {
  adapters: number;
  /** tokens/s over the reference run's: one adapter, or the base model when one adapter was not measured. */
  ratio: number;
  reference: string;
}

const ADAPTERS = 4;

async function writeAdapters(model: string, rank: number, log: (message: string) => void): Promise<string[]> {
  const directory = join(cacheDir(), 'lora');
  mkdirSync(directory, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < ADAPTERS; i++) {
    const path = join(
      directory,
      `${model
        .split(/[\\/]/)
        .pop()!
        .replace(/\.gguf$/, '')}-lora-r${rank}-${i}.gguf`,
    );
    await writeLoraAdapter(model, path, { rank, alpha: rank, seed: 100 + i });
    paths.push(path);
  }
  log(`${ADAPTERS} LoRA adapters of rank ${rank} written for the model`);
  return paths;
}

export async function benchLora(options: LoraBenchOptions, log: (message: string) => void): Promise<LoraBenchRow[]> {
  const model = await ensureBenchModel(options, log);
  const adapters = await writeAdapters(model, options.rank, log);
  const list = adapters.map((path, i) => `a${i}=${path}`).join(',');
  let server: Process | undefined;
  try {
    server = await startTgiNodeServer(model, { threads: options.threads, extra: ['--lora-adapters', list] });
    const target: Target = { name: 'tgi-node', url: server.url, api: 'tgi' };
    const requests = options.concurrency * options.requestsPerStream;
    const mixes = [0, ...options.adapters];
    const prompts = await promptsOfLength(server.url, requests * options.rounds * mixes.length + 1, options.promptTokens, 9100);
    const warmUp = prompts.pop()!;
    await runRequests(target, { name: 'warm-up', prompt: () => warmUp, maxNewTokens: options.newTokens, adapter: () => 'a0' }, 1, 1);
    const runs = new Map<number, RequestsRun[]>(mixes.map((m) => [m, []]));
    let offset = 0;
    // The mixes alternate round by round, so that drift in the machine's speed touches each alike.
    for (let round = 0; round < options.rounds; round++) {
      for (const mix of mixes) {
        const base = offset;
        offset += requests;
        const adapter = (index: number) => (mix === 0 ? undefined : `a${index % mix}`);
        log(
          `round ${round + 1}/${options.rounds}: ${mix === 0 ? 'base model' : `${mix} adapter${mix > 1 ? 's' : ''}`}, ${options.concurrency} streams`,
        );
        runs
          .get(mix)!
          .push(
            await runRequests(
              target,
              { name: 'lora', prompt: (i) => prompts[base + i], maxNewTokens: options.newTokens, adapter },
              options.concurrency,
              requests,
            ),
          );
      }
    }
    const levels = mixes.map((mix) => ({
      mix,
      level: summarize('tgi-node', mix === 0 ? 'base model' : `${mix} adapter${mix > 1 ? 's' : ''}`, options.concurrency, runs.get(mix)!),
    }));
    const single = levels.find((l) => l.mix === 1)?.level ?? levels[0].level;
    return levels.map(({ mix, level }) => ({
      ...level,
      adapters: mix,
      ratio: level.outputTokensPerSecond / single.outputTokensPerSecond,
      reference: single.workload,
    }));
  } finally {
    await server?.stop();
  }
}

export function formatLoraTable(rows: LoraBenchRow[]): string {
  const header = [
    'requests go to',
    'streams',
    'reqs',
    'errors',
    'out tok/s',
    `vs ${rows[0]?.reference ?? '1 adapter'}`,
    'TTFT p50',
    'TTFT p99',
    'ITL p50',
    'ITL p99',
  ];
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const lines = rows.map((r) => [
    r.workload,
    String(r.concurrency),
    String(r.requests),
    String(r.errors),
    r.outputTokensPerSecond.toFixed(1),
    `${r.ratio.toFixed(2)}x`,
    ms(r.ttftP50Ms),
    ms(r.ttftP99Ms),
    ms(r.itlP50Ms),
    ms(r.itlP99Ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
