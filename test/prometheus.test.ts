// A real Prometheus scrapes the server (with the metrics key), and PromQL through its HTTP API sees
// exactly the requests the test sent.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, waitFor } from './helpers/http.js';
import { readSse } from './helpers/sse.js';
import { freePort, stopChild } from '../src/bench/llama-server.js';

/** Debian's prometheus, if this machine has it (CI installs it). */
function prometheusPath(): string | undefined {
  for (const candidate of ['/usr/bin/prometheus', '/usr/local/bin/prometheus']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

const METRICS_KEY = 'scrape-secret';

describe(
  'Prometheus scraping',
  { skip: prometheusPath() ? false : 'prometheus is not installed (apt-get install prometheus): the real scrape is not checked' },
  () => {
    let server: RunningServer;
    let prometheus: ChildProcess;
    let prometheusUrl: string;
    let directory: string;
    const logs: string[] = [];

    before(async () => {
      server = await startServer(['--metrics-api-key', METRICS_KEY]);
      directory = mkdtempSync(join(tmpdir(), 'tgi-node-prometheus-'));
      const target = new URL(server.url).host;
      writeFileSync(
        join(directory, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: tgi-node',
          '    metrics_path: /metrics',
          '    authorization:',
          `      credentials: ${METRICS_KEY}`,
          '    static_configs:',
          `      - targets: ['${target}']`,
          '',
        ].join('\n'),
      );
      const port = await freePort();
      prometheusUrl = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        prometheusPath()!,
        [
          `--config.file=${join(directory, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(directory, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      prometheus.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      const ready = await waitFor(async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.status === 200, 30_000);
      assert.ok(ready, `prometheus did not start:\n${logs.join('')}`);
    });

    after(async () => {
      if (prometheus) await stopChild(prometheus);
      await server?.stop();
      if (directory) rmSync(directory, { recursive: true, force: true });
    });

    async function query(promql: string): Promise<number | undefined> {
      const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; data: { result: { value: [number, string] }[] } };
      assert.equal(body.status, 'success');
      return body.data.result.length > 0 ? Number(body.data.result[0].value[1]) : undefined;
    }

    it('PromQL returns tgi_request_count and tgi_request_success equal to the requests sent', async () => {
      const sent = [
        postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 8 } }),
        postJson(`${server.url}/generate`, { inputs: 'The cat', parameters: { max_new_tokens: 5, do_sample: true, seed: 3 } }),
        postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6 }),
        postJson(`${server.url}/v1/completions`, { prompt: 'Lily', max_tokens: 4 }),
      ];
      for (const response of await Promise.all(sent)) assert.equal(response.status, 200);
      const stream = await fetch(`${server.url}/generate_stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: 'Once', parameters: { max_new_tokens: 3 } }),
      });
      assert.equal((await readSse(stream)).length, 3);
      const requests = 5;

      let count: number | undefined;
      let success: number | undefined;
      const scraped = await waitFor(async () => {
        count = await query('tgi_request_count{job="tgi-node"}');
        success = await query('tgi_request_success{job="tgi-node"}');
        return count === requests && success === requests;
      }, 30_000);
      assert.ok(scraped, `Prometheus saw tgi_request_count ${count} and tgi_request_success ${success}, expected ${requests}`);
      assert.equal(await query('up{job="tgi-node"}'), 1);
      // The step metrics and the gauges a router reads arrive through Prometheus too.
      assert.ok((await query('sum(tgi_batch_inference_count{job="tgi-node"})'))! >= 5);
      assert.equal(await query('tgi_queue_size{job="tgi-node"}'), 0);
      assert.equal(await query('tgi_kv_cache_usage_ratio{job="tgi-node"}'), 0);
      assert.ok((await query('tgi_batch_next_size_count{job="tgi-node"}'))! >= 1);
    });
  },
);
