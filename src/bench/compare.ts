// Side-by-side runs: llama.cpp's llama-server and tgi-node on the same GGUF, threads and KV size,
// the same workloads one server at a time, and the ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { writeChart, type Panel } from './chart.js';
import { ensureLlamaServer, freePort, startProcess, withOthersStopped, type Process } from './llama-server.js';
import { startTgiNodeServer } from './tgi-node.js';
import { formatTable, runLevel, runRequests, summarize, type LevelResult, type RequestsRun, type Target, type Workload } from './load.js';
import { promptsOfLength, cutToTokens, randomText } from './prompts.js';
import { ensureBenchModel, type BenchModelOptions } from './model/cached-model.js';

export interface CompareOptions extends BenchModelOptions {
  threads: number;
  concurrency: number[];
  promptTokens: number;
  newTokens: number;
  requestsPerStream: number;
  /** Measurements of each throughput level per server, taken in alternating order (at least). */
  rounds: number;
  sharedPrefixTokens: number;
  sharedPrefixUsers: number;
  questionTokens: number;
  sharedPrefixRequestsPerUser: number;
  llamaServer?: string;
  skipLlamaServer: boolean;
  out: string;
}

/** Requests of one round of a throughput level, at least. */
const MIN_ROUND_REQUESTS = 4;
/**
 * Requests of a throughput level per server, at least: the speed of a shared machine drifts by
 * 10-15% over tens of seconds, so a level of few streams is measured in more, shorter rounds.
 */
const MIN_LEVEL_REQUESTS = 32;
const WARM_UP_REQUESTS = 2;

async function startOurs(
  model: string,
  options: CompareOptions,
  slots: number,
  slotTokens: number,
  extra: string[] = [],
): Promise<Process> {
  return startTgiNodeServer(model, {
    threads: options.threads,
    extra: [
      '--max-batch-size',
      String(slots),
      '--max-total-tokens',
      String(slotTokens),
      '--max-batch-total-tokens',
      String(slots * slotTokens),
      ...extra,
    ],
  });
}

async function startReference(binary: string, model: string, options: CompareOptions, slots: number, slotTokens: number): Promise<Process> {
  const port = await freePort();
  // Enough HTTP threads for every stream: its default (one per core) drops connections at 64 streams.
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
    String(slots * slotTokens),
    '--threads-http',
    String(slots + 4),
    '--no-webui',
  ];
  return startProcess(binary, args, `http://127.0.0.1:${port}`);
}

async function eventLoopDelayP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tgi_event_loop_delay_seconds{quantile="0.99"}'));
  return line ? Number(line.split(' ').pop()) * 1000 : NaN;
}

export async function compare(options: CompareOptions): Promise<void> {
  const log = (message: string) => console.error(message);
  const model = await ensureBenchModel(options, log);
  const binary = options.skipLlamaServer ? undefined : (options.llamaServer ?? ensureLlamaServer(log));
  const slots = Math.max(...options.concurrency, options.sharedPrefixUsers);
  // Cells per slot: the longest request of the run and some room, in llama.cpp's steps of 256 cells
  // (llama-server rounds each slot up to them).
  const longest = Math.max(
    options.promptTokens + options.newTokens,
    options.sharedPrefixUsers > 0 ? options.sharedPrefixTokens + options.questionTokens + 32 : 0,
  );
  const slotTokens = Math.ceil((longest + 64) / 256) * 256;
  const results: LevelResult[] = [];
  const notes: Record<string, number> = {};
  const bar = new cliProgress.SingleBar(
    { format: '{label} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );

  const servers = new Map<string, Process>();
  /** Runs `work` against one server with the others stopped. */
  const alone = <T>(name: string, work: () => Promise<T>): Promise<T> =>
    withOthersStopped(
      [...servers].filter(([other]) => other !== name).map(([, server]) => server.child),
      work,
    );
  const measure = (target: Target, workload: Workload, concurrency: number, requests: number) =>
    alone(target.name, async () => {
      bar.start(requests, 0, { label: `${target.name} ${workload.name} x${concurrency}`.padEnd(40) });
      const result = await runLevel(target, workload, concurrency, requests, (done) => bar.update(done));
      bar.stop();
      results.push(result);
      return result;
    });

  const ours = await startOurs(model, options, slots, slotTokens);
  servers.set('tgi-node', ours);
  const reference = binary ? await startReference(binary, model, options, slots, slotTokens) : undefined;
  if (reference) servers.set('llama-server', reference);
  const targets: Target[] = [
    ...(reference ? [{ name: 'llama-server', url: reference.url, api: 'openai' as const }] : []),
    { name: 'tgi-node', url: ours.url, api: 'tgi' as const },
  ];
  try {
    // Every request of every level has a prompt of its own, so that no server answers one from a
    // cache filled at an earlier level.
    const levels = options.concurrency.map((concurrency) => {
      const requests = Math.max(MIN_ROUND_REQUESTS, concurrency * options.requestsPerStream);
      return { concurrency, requests, rounds: Math.max(options.rounds, Math.ceil(MIN_LEVEL_REQUESTS / requests)) };
    });
    const total = levels.reduce((sum, level) => sum + level.requests * level.rounds, 0);
    const prompts = await promptsOfLength(ours.url, total + WARM_UP_REQUESTS, options.promptTokens);
    const warmUp = prompts.splice(-WARM_UP_REQUESTS);
    // Whole requests first, so that one-time costs (JavaScript compiled on first use, first touch
    // of the KV cache) do not count in the first level.
    for (const target of targets)
      await alone(target.name, () =>
        runLevel(target, { name: 'warm-up', prompt: (i) => warmUp[i], maxNewTokens: options.newTokens }, 1, WARM_UP_REQUESTS),
      );
    let offset = 0;
    const busiest = Math.max(...options.concurrency);
    for (const { concurrency, requests, rounds } of levels) {
      const runs = new Map<string, RequestsRun[]>(targets.map((t) => [t.name, []]));
      // The servers take turns, in alternating order, so that a slower or faster spell of a shared
      // machine does not fall on one of them only.
      for (let round = 0; round < rounds; round++) {
        const base = offset;
        offset += requests;
        const workload: Workload = { name: 'throughput', prompt: (i) => prompts[base + (i % requests)], maxNewTokens: options.newTokens };
        for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
          await alone(target.name, async () => {
            await runLevel(target, { ...workload, prompt: () => warmUp[0], maxNewTokens: 4 }, 1, 1);
            const watchLoop = target.name === 'tgi-node' && concurrency === busiest;
            if (watchLoop) await eventLoopDelayP99(target.url);
            bar.start(requests, 0, { label: `${target.name} throughput x${concurrency} (${round + 1}/${rounds})`.padEnd(44) });
            runs.get(target.name)!.push(await runRequests(target, workload, concurrency, requests, (done) => bar.update(done)));
            bar.stop();
            if (watchLoop) notes.eventLoopDelayP99Ms = Math.max(notes.eventLoopDelayP99Ms ?? 0, await eventLoopDelayP99(target.url));
          });
        }
      }
      for (const target of targets) results.push(summarize(target.name, 'throughput', concurrency, runs.get(target.name)!));
    }

    if (options.sharedPrefixUsers > 0) {
      const system = await cutToTokens(ours.url, randomText(options.sharedPrefixTokens * 2, 777), options.sharedPrefixTokens);
      const questions = await promptsOfLength(
        ours.url,
        options.sharedPrefixUsers * options.sharedPrefixRequestsPerUser,
        options.questionTokens,
        5000,
      );
      const workload: Workload = {
        name: 'shared-prefix',
        prompt: (i) => `${system}\n${questions[i % questions.length]}`,
        maxNewTokens: 32,
      };
      const requests = options.sharedPrefixUsers * options.sharedPrefixRequestsPerUser;
      for (const target of targets) await measure(target, workload, options.sharedPrefixUsers, requests);
      await ours.stop();
      servers.delete('tgi-node');
      const recompute = await startOurs(model, options, slots, slotTokens, ['--disable-prefix-caching']);
      servers.set('tgi-node (no prefix cache)', recompute);
      try {
        await measure(
          { name: 'tgi-node (no prefix cache)', url: recompute.url, api: 'tgi' },
          workload,
          options.sharedPrefixUsers,
          requests,
        );
      } finally {
        servers.delete('tgi-node (no prefix cache)');
        await recompute.stop();
      }
    }
  } finally {
    await ours.stop();
    await reference?.stop();
  }

  const referenceRow = (row: LevelResult) =>
    row.target === 'llama-server'
      ? undefined
      : results.find((r) => r.target === 'llama-server' && r.workload === row.workload && r.concurrency === row.concurrency);
  const table = formatTable(results, referenceRow);
  console.log(`\nModel ${model}, ${options.threads} threads, ${slots} slots x ${slotTokens} tokens of KV, streaming, greedy`);
  console.log(table);
  const shared = (name: string) => results.find((r) => r.workload === 'shared-prefix' && r.target === name);
  const cachedRun = shared('tgi-node');
  const recomputeRun = shared('tgi-node (no prefix cache)');
  if (cachedRun && recomputeRun) notes.sharedPrefixTtftP50SpeedupVsRecompute = recomputeRun.ttftP50Ms / cachedRun.ttftP50Ms;
  const referenceShared = shared('llama-server');
  if (cachedRun && referenceShared) notes.sharedPrefixTtftP50RatioVsLlamaServer = cachedRun.ttftP50Ms / referenceShared.ttftP50Ms;
  for (const [key, value] of Object.entries(notes)) console.log(`${key}: ${value.toFixed(2)}`);
  for (const row of results)
    if (row.firstError) console.log(`${row.target} x${row.concurrency}: ${row.errors} errors, first: ${row.firstError}`);

  mkdirSync(options.out, { recursive: true });
  // File names only: the results are meant to be published, the machine's paths are not.
  const { out: _out, llamaServer, ...settings } = options;
  const recorded = { ...settings, vocab: basename(settings.vocab), ...(llamaServer ? { llamaServer: basename(llamaServer) } : {}) };
  writeFileSync(join(options.out, 'results.json'), JSON.stringify({ model: basename(model), options: recorded, results, notes }, null, 2));
  const throughput = results.filter((r) => r.workload === 'throughput');
  const names = [...new Set(throughput.map((r) => r.target))];
  const panel = (title: string, yLabel: string, pick: (r: LevelResult) => number): Panel => ({
    title,
    yLabel,
    series: names.map((label) => ({
      label,
      points: throughput.filter((r) => r.target === label).map((r) => ({ x: r.concurrency, y: pick(r) })),
    })),
  });
  await writeChart(join(options.out, 'throughput.png'), [
    panel('Output tokens/s', 'tok/s', (r) => r.outputTokensPerSecond),
    panel('Time to first token, p99', 'ms', (r) => r.ttftP99Ms),
  ]);
  console.log(`results: ${join(options.out, 'results.json')}, chart: ${join(options.out, 'throughput.png')}`);
}
