// `compare --same-budget <cells>`: both servers given the same KV cells, each otherwise at its own
// defaults (llama-server with its unified pool, -kvu), and, as the bar the shared pool must keep,
// tgi-node with one split slot of `--slot-cells` per stream. Reports tokens/s, latencies and the
// most requests each server ran at once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeChart } from './chart.js';
import { ensureLlamaServer, freePort, startProcess, withOthersStopped, type Process } from './llama-server.js';
import { startTgiNodeServer } from './tgi-node.js';
import { formatTable, runRequests, summarize, type LevelResult, type RequestsRun, type Target, type Workload } from './load.js';
import { promptsOfLength } from './prompts.js';
import { ensureBenchModel, type BenchModelOptions } from './model/cached-model.js';

export interface SameBudgetOptions extends BenchModelOptions {
  threads: number;
  budget: number;
  concurrency: number[];
  promptTokens: number;
  newTokens: number;
  requestsPerStream: number;
  rounds: number;
  /** Cells of each split slot of the tgi-node reference run (0: no such run). */
  slotCells: number;
  llamaServer?: string;
  skipLlamaServer: boolean;
  out: string;
}

const POLL_MS = 50;

interface Server {
  target: Target;
  process: Process;
  /** Requests running now, read from the server's metrics. */
  running(): Promise<number>;
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

async function startOurs(name: string, model: string, options: SameBudgetOptions, extra: string[]): Promise<Server> {
  const process = await startTgiNodeServer(model, { threads: options.threads, extra });
  return { target: { name, url: process.url, api: 'tgi' }, process, running: () => gauge(process.url, 'tgi_batch_current_size') };
}

async function startLlamaServer(binary: string, model: string, options: SameBudgetOptions, slots: number): Promise<Server> {
  const port = await freePort();
  const args = [
    '-m',
    model,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-t',
    String(options.threads),
    '-tb',
    String(options.threads),
    '-np',
    String(slots),
    '-c',
    String(options.budget),
    '-kvu',
    '--metrics',
    '--threads-http',
    String(slots + 4),
    '--no-webui',
  ];
  const process = await startProcess(binary, args, `http://127.0.0.1:${port}`);
  return {
    target: { name: 'llama-server (-kvu)', url: process.url, api: 'openai' },
    process,
    running: () => gauge(process.url, 'llamacpp:requests_processing'),
  };
}

/** Polls a server's running requests while `work` runs; returns the work's result and the peak. */
async function withPeak<T>(server: Server, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      peak = Math.max(peak, await server.running().catch(() => 0));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  try {
    return { result: await work(), peak };
  } finally {
    polling = false;
    await poll;
  }
}

export async function sameBudget(options: SameBudgetOptions): Promise<void> {
  const log = (message: string) => console.error(message);
  const model = await ensureBenchModel(options, log);
  const binary = options.skipLlamaServer ? undefined : (options.llamaServer ?? ensureLlamaServer(log));
  const slots = Math.max(...options.concurrency);
  const servers: Server[] = [];
  const results: (LevelResult & { peakRunning: number })[] = [];
  try {
    if (binary) servers.push(await startLlamaServer(binary, model, options, slots));
    servers.push(
      await startOurs('tgi-node (pool)', model, options, [
        '--max-batch-total-tokens',
        String(options.budget),
        '--max-batch-size',
        String(slots),
      ]),
    );
    if (options.slotCells > 0) {
      servers.push(
        await startOurs(`tgi-node (${slots} x ${options.slotCells})`, model, options, [
          '--max-batch-total-tokens',
          String(slots * options.slotCells),
          '--max-batch-size',
          String(slots),
          '--max-total-tokens',
          String(options.slotCells),
        ]),
      );
    }
    // Only one server runs at a time: they share the cores.
    const alone = <T>(server: Server, work: () => Promise<T>): Promise<T> =>
      withOthersStopped(
        servers.filter((s) => s !== server).map((s) => s.process.child),
        work,
      );
    const total = options.concurrency.reduce((sum, c) => sum + c * options.requestsPerStream * options.rounds, 0);
    const prompts = await promptsOfLength(servers.at(-1)!.target.url, total + 1, options.promptTokens, 9000);
    const warmUp = prompts.pop()!;
    for (const server of servers)
      await alone(server, () =>
        runRequests(server.target, { name: 'warm-up', prompt: () => warmUp, maxNewTokens: options.newTokens }, 1, 1),
      );
    let offset = 0;
    for (const concurrency of options.concurrency) {
      const requests = concurrency * options.requestsPerStream;
      const runs = new Map<Server, RequestsRun[]>(servers.map((s) => [s, []]));
      const peaks = new Map<Server, number>(servers.map((s) => [s, 0]));
      for (let round = 0; round < options.rounds; round++) {
        const base = offset;
        offset += requests;
        const workload: Workload = { name: 'same-budget', prompt: (i) => prompts[base + (i % requests)], maxNewTokens: options.newTokens };
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          log(`${server.target.name} x${concurrency} (${round + 1}/${options.rounds})`);
          const { result, peak } = await alone(server, () =>
            withPeak(server, () => runRequests(server.target, workload, concurrency, requests)),
          );
          runs.get(server)!.push(result);
          peaks.set(server, Math.max(peaks.get(server)!, peak));
        }
      }
      for (const server of servers)
        results.push({ ...summarize(server.target.name, 'same-budget', concurrency, runs.get(server)!), peakRunning: peaks.get(server)! });
    }
  } finally {
    for (const server of servers) await server.process.stop();
  }

  const referenceName = servers[0]?.target.name;
  const reference = (row: LevelResult) =>
    row.target === referenceName ? undefined : results.find((r) => r.target === referenceName && r.concurrency === row.concurrency);
  console.log(
    `\nModel ${basename(model)}, ${options.threads} threads, the same KV budget of ${options.budget} cells, ${options.promptTokens}-token prompts, ${options.newTokens} new tokens, streaming, greedy`,
  );
  console.log(formatTable(results, reference));
  for (const row of results) console.log(`${row.target} x${row.concurrency}: at most ${row.peakRunning} requests running at once`);
  const pool = results.filter((r) => r.target === 'tgi-node (pool)');
  for (const row of pool) {
    const split = results.find((r) => r.target.startsWith('tgi-node (') && r.target !== row.target && r.concurrency === row.concurrency);
    if (split)
      console.log(
        `tgi-node pool / split slots x${row.concurrency}: tokens/s ratio ${(row.outputTokensPerSecond / split.outputTokensPerSecond).toFixed(2)}`,
      );
  }
  for (const row of results)
    if (row.firstError) console.log(`${row.target} x${row.concurrency}: ${row.errors} errors, first: ${row.firstError}`);

  mkdirSync(options.out, { recursive: true });
  const { out: _out, llamaServer, ...settings } = options;
  const recorded = { ...settings, vocab: basename(settings.vocab), ...(llamaServer ? { llamaServer: basename(llamaServer) } : {}) };
  writeFileSync(join(options.out, 'results.json'), JSON.stringify({ model: basename(model), options: recorded, results }, null, 2));
  const names = [...new Set(results.map((r) => r.target))];
  const series = (pick: (r: LevelResult & { peakRunning: number }) => number) =>
    names.map((label) => ({ label, points: results.filter((r) => r.target === label).map((r) => ({ x: r.concurrency, y: pick(r) })) }));
  await writeChart(join(options.out, 'same-budget.png'), [
    { title: 'Output tokens/s', yLabel: 'tok/s', series: series((r) => r.outputTokensPerSecond), bars: true },
    { title: 'Requests running at once, peak', yLabel: 'requests', series: series((r) => r.peakRunning), bars: true },
  ]);
  console.log(`results: ${join(options.out, 'results.json')}, chart: ${join(options.out, 'same-budget.png')}`);
}
