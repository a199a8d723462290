// /health, /info, /tokenize, /metrics, CORS and the API key (in depth: security.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';

describe('operations', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer([
      '--max-concurrent-requests',
      '7',
      '--max-total-tokens',
      '300',
      '--max-client-batch-size',
      '3',
      '--api-key',
      'sekret',
    ]);
  });
  after(() => server.stop());

  /** A greedy stream of `tokens` tokens, read until `events` events have arrived. */
  async function streamStarted(tokens: number, events: number): Promise<ReadableStreamDefaultReader<Uint8Array>> {
    const response = await fetch(`${server.url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sekret' },
      body: JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: tokens, stop: [] } }),
    });
    const reader = response.body!.getReader();
    let seen = '';
    while ((seen.match(/data:/g) ?? []).length < events) seen += new TextDecoder().decode((await reader.read()).value);
    return reader;
  }

  it('GET /health and /ping answer 200 with an empty body; GET / too, with where the docs are', async () => {
    for (const path of ['/health', '/ping']) {
      const r = await fetch(`${server.url}${path}`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), '');
    }
    const root = await fetch(`${server.url}/`);
    assert.equal(root.status, 200);
    const guide = (await root.json()) as Record<string, string>;
    assert.equal(guide.docs, '/docs');
    assert.equal(guide.health, '/health');
    assert.match(guide.model_id, /stories260K\.gguf$/);
    for (const path of [guide.docs, guide.openapi, guide.info, guide.metrics])
      assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
  });

  it('GET /info reports the limits in force', async () => {
    const info = await (await fetch(`${server.url}/info`)).json();
    assert.match(info.model_id, /stories260K\.gguf$/);
    assert.equal(info.max_concurrent_requests, 7);
    assert.equal(info.max_total_tokens, 300);
    assert.equal(info.max_input_tokens, 299);
    assert.equal(info.max_best_of, 2);
    assert.equal(info.max_stop_sequences, 4);
    assert.equal(info.max_client_batch_size, 3);
    assert.equal(info.router, 'tgi-node');
    assert.equal(typeof info.version, 'string');
    for (const key of ['model_sha', 'model_pipeline_tag', 'sha', 'docker_label']) assert.ok(key in info);
    // The KV pool, an extension: the cells the running requests share, at least one full request.
    assert.ok(info.max_batch_size >= 1);
    assert.ok(info.kv_cache_cells >= info.max_total_tokens);
    assert.equal(info.max_batch_total_tokens, info.kv_cache_cells);
    assert.ok(info.kv_cache_bytes > 0);
  });

  it('the API key protects generation routes, not the others', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } };
    for (const path of ['/generate', '/generate_stream', '/', '/tokenize']) {
      const denied = await postJson(`${server.url}${path}`, body);
      assert.equal(denied.status, 401, path);
      assert.deepEqual(Object.keys(denied.json), ['error'], path);
      assert.match(denied.json.error, /^Missing API key/, path);
    }
    const allowed = await postJson(`${server.url}/generate`, body, { authorization: 'Bearer sekret' });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.json.generated_text, ', there');
    assert.equal((await fetch(`${server.url}/info`)).status, 200);
  });

  it('/tokenize returns ids with byte offsets that cover the input', async () => {
    const inputs = 'Once upon a time, café 😊 said Lily.';
    const r = await postJson(`${server.url}/tokenize`, { inputs }, { authorization: 'Bearer sekret' });
    assert.equal(r.status, 200);
    const spans: { id: number; text: string; start: number; stop: number }[] = r.json;
    assert.deepEqual(
      spans.slice(0, 5).map((s) => s.id),
      [1, 403, 407, 261, 378],
    );
    assert.deepEqual(spans[0], { id: 1, text: '', start: 0, stop: 0 });
    const bytes = Buffer.from(inputs, 'utf8');
    let cursor = 0;
    for (const span of spans) {
      assert.equal(span.start, cursor, `gap before ${JSON.stringify(span)}`);
      assert.ok(span.stop >= span.start);
      cursor = span.stop;
    }
    assert.equal(cursor, bytes.length);
    assert.equal(spans[1].text, 'Once');
    // The emoji is four byte-fallback tokens: each alone is not valid UTF-8 (lossy text), together they are.
    assert.equal(
      spans
        .map((s) => s.text)
        .join('')
        .replace(/\uFFFD/g, ''),
      inputs.replace('😊', ''),
    );
    const emoji = spans.filter((s) => s.text === '\uFFFD');
    assert.equal(emoji.length, 4);
    assert.equal(bytes.subarray(emoji[0].start, emoji[3].stop).toString('utf8'), '😊');
  });

  it('/tokenize accepts empty inputs and ignores truncate', async () => {
    const empty = await postJson(`${server.url}/tokenize`, { inputs: '' }, { authorization: 'Bearer sekret' });
    assert.equal(empty.status, 200);
    assert.ok(empty.json.length <= 1);
    const truncated = await postJson(
      `${server.url}/tokenize`,
      { inputs: 'Once upon a time', parameters: { truncate: 1 } },
      { authorization: 'Bearer sekret' },
    );
    assert.equal(truncated.json.length, 5);
  });

  it('/metrics exposes TGI metric names after a request', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of [
      'tgi_request_count',
      'tgi_request_success',
      'tgi_request_duration_bucket',
      'tgi_queue_size',
      'tgi_batch_current_size',
      'tgi_request_generated_tokens_bucket',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    assert.match(text, /^tgi_request_success [1-9]/m);
  });

  it("/metrics has TGI's step metrics, buckets and the prefix-cache hits", async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const value = (text: string, series: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`${series} `))
          ?.slice(series.length + 1) ?? 0,
      );
    const before = await scrape();
    const body = { inputs: 'Once upon a time there was a dog', parameters: { max_new_tokens: 10, stop: [] } };
    const first = await postJson(`${server.url}/generate`, body, { authorization: 'Bearer sekret' });
    assert.equal(first.status, 200);
    const middle = await scrape();
    // Not from the response cache: the engine runs it again, from the first one's cached prompt.
    const second = await postJson(`${server.url}/generate`, body, { authorization: 'Bearer sekret', 'x-use-cache': 'false' });
    assert.equal(second.json.generated_text, first.json.generated_text);
    const after = await scrape();
    const delta = (from: string, to: string, series: string) => value(to, series) - value(from, series);
    // 10 tokens: the first comes out of the prefill step, the 9 others out of decode steps.
    assert.equal(delta(before, middle, 'tgi_batch_inference_count{method="prefill"}'), 1);
    assert.equal(delta(before, middle, 'tgi_batch_inference_count{method="decode"}'), 9);
    assert.equal(delta(before, middle, 'tgi_batch_inference_success{method="decode"}'), 9);
    assert.equal(delta(before, middle, 'tgi_batch_forward_duration_count{method="decode"}'), 9);
    assert.equal(delta(before, middle, 'tgi_batch_decode_duration_count{method="prefill"}'), 1);
    assert.ok(delta(before, middle, 'tgi_batch_inference_duration_sum{method="decode"}') > 0);
    assert.equal(delta(before, middle, 'tgi_batch_next_size_bucket{le="1"}'), 1);
    assert.equal(delta(before, middle, 'tgi_batch_next_size_count'), 1);
    assert.equal(delta(before, middle, 'tgi_batch_filter_duration_count{method="decode"}'), 9);
    // Alone in the batch: it joined nobody.
    assert.equal(delta(before, middle, 'tgi_batch_concat{reason="chunking"}'), 0);
    // The second request starts from the first one's cached prompt.
    assert.equal(delta(middle, after, 'tgi_prefix_cache_hits'), 1);
    assert.equal(delta(before, middle, 'tgi_prefix_cache_hits'), 0);
    // TGI's bucket sets: 35 geometric duration bounds, 100 linear length bounds, 1..1024 batch sizes.
    const bounds = (name: string) => [...after.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"`, 'gm'))].map((m) => m[1]);
    const durations = bounds('tgi_request_duration');
    assert.equal(durations.length, 36);
    assert.deepEqual([durations[0], durations[34], durations[35]], ['0.00015', '145.611', '+Inf']);
    const inputs = bounds('tgi_request_input_length');
    assert.equal(inputs.length, 101);
    assert.equal(Number(inputs[99]), (await (await fetch(`${server.url}/info`)).json()).max_input_tokens);
    assert.equal(bounds('tgi_batch_next_size').length, 1025);
  });

  it('/metrics types the totals that only grow as counters, and they follow the engine', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const totals = ['tgi_prefix_cache_hits', 'tgi_prefix_cache_reused_tokens', 'tgi_prefill_tokens', 'tgi_kv_cache_relayout_count'];
    for (const name of totals) assert.match(await scrape(), new RegExp(`^# TYPE ${name} counter$`, 'm'), name);
    const inputs = 'A green frog sat on a log by the pond';
    const body = { inputs, parameters: { max_new_tokens: 2 } };
    const headers = { authorization: 'Bearer sekret', 'x-use-cache': 'false' };
    await postJson(`${server.url}/generate`, body, headers);
    const before = await scrape();
    await postJson(`${server.url}/generate`, body, headers);
    const after = await scrape();
    const promptTokens = (await postJson(`${server.url}/tokenize`, { inputs }, headers)).json.length;
    const delta = (name: string) => value(after, name) - value(before, name);
    // The second run reuses all but the last prompt token, and computes that one.
    assert.equal(delta('tgi_prefix_cache_hits'), 1);
    assert.equal(delta('tgi_prefix_cache_reused_tokens'), promptTokens - 1);
    assert.equal(delta('tgi_prefill_tokens'), 1);
    assert.equal(value(await scrape(), 'tgi_prefix_cache_hits'), value(after, 'tgi_prefix_cache_hits'), 'a scrape alone changes nothing');
  });

  it('/metrics has the process metrics: CPU, memory, event loop lag', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const [name, type] of [
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_eventloop_lag_seconds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
      const sample = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      assert.ok(sample && Number(sample[1]) >= 0, `${name}: ${sample?.[0]}`);
    }
    assert.ok(Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)![1]) > 10_000_000);
  });

  it('tgi_batch_concat counts requests joining a running batch', async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    const concat = (text: string) => Number(/^tgi_batch_concat\{reason="chunking"\} (\S+)$/m.exec(text)?.[1] ?? 0);
    const before = concat(await scrape());
    const reader = await streamStarted(150, 5);
    const joined = await postJson(
      `${server.url}/generate`,
      { inputs: 'The dog', parameters: { max_new_tokens: 3 } },
      { authorization: 'Bearer sekret' },
    );
    assert.equal(joined.status, 200);
    await reader.cancel();
    assert.equal(concat(await scrape()) - before, 1);
  });

  it('/metrics reports the KV cells running requests hold, of all the cells, while they run', async () => {
    const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const info = await (await fetch(`${server.url}/info`)).json();
    const reader = await streamStarted(200, 20);
    const during = await (await fetch(`${server.url}/metrics`)).text();
    await reader.cancel();
    assert.equal(gauge(during, 'tgi_kv_cache_total_cells'), info.kv_cache_cells);
    const used = gauge(during, 'tgi_kv_cache_used_cells');
    assert.ok(used >= 20 && used <= 300, `used cells ${used}`);
    assert.equal(gauge(during, 'tgi_kv_cache_usage_ratio'), used / info.kv_cache_cells);
    assert.equal(gauge(during, 'tgi_batch_current_size'), 1);
    // The pool's current division: streams large enough for the running request, within the pool.
    const streams = gauge(during, 'tgi_kv_cache_streams');
    const streamCells = gauge(during, 'tgi_kv_cache_stream_cells');
    assert.ok(streamCells >= 205 && streamCells % 256 === 0, `stream cells ${streamCells}`);
    assert.ok(streams >= 1 && streams * streamCells <= info.kv_cache_cells, `${streams} x ${streamCells}`);
    assert.ok(gauge(during, 'tgi_kv_cache_relayout_count') >= 0);
    let after = '';
    for (let i = 0; i < 50 && gauge(after, 'tgi_batch_current_size') !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await (await fetch(`${server.url}/metrics`)).text();
    }
    assert.equal(gauge(after, 'tgi_kv_cache_used_cells'), 0);
  });

  it('CORS answers a preflight for any origin by default', async () => {
    const r = await fetch(`${server.url}/generate`, {
      method: 'OPTIONS',
      headers: { origin: 'https://example.org', 'access-control-request-method': 'POST' },
    });
    assert.ok(r.status < 300);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });
});

describe('--prometheus-port', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--prometheus-port', '0', '--metrics-api-key', 'scrape-key']);
  });
  after(() => server.stop());

  it('serves /metrics on a second port too, with the same registry and key, and nothing else there', async () => {
    const metricsUrl = server.summary.metricsUrl as string;
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.ok(server.logs.some((line) => line.includes(`metrics also on ${metricsUrl}`)));
    const generated = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } });
    assert.equal(generated.status, 200);
    const denied = await fetch(metricsUrl);
    assert.equal(denied.status, 401);
    const scraped = await (await fetch(metricsUrl, { headers: { authorization: 'Bearer scrape-key' } })).text();
    assert.match(scraped, /^tgi_request_success 1$/m);
    const main = await (await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape-key' } })).text();
    assert.match(main, /^tgi_request_success 1$/m);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/generate'), { method: 'POST' })).status, 404);
    assert.equal(((await (await fetch(metricsUrl.replace('/metrics', '/info'))).json()) as any).error_type, 'not_found');
  });
});
