// The port opens before the model is ready: while a slow hub trickles the file, /health is a 503
// with the progress, generation routes are 503s with the Inference API's loading body, and a request
// with `x-wait-for-model: true` waits and is served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GREEDY_CONTINUATION, STORIES } from './helpers/models.js';
import { type LoadingServer, startLoadingServer } from './helpers/server.js';
import { metricValue, postJson } from './helpers/http.js';
import { startFakeHub, type FakeHub } from './helpers/fake-hub.js';
import { LoadingErrorSchema, UnhealthySchema } from '../src/api/operations.js';

const REPO = 'org/slow-GGUF';
const COMMIT = 'c'.repeat(40);

describe('loading: the port opens at once', () => {
  let hub: FakeHub;
  let server: LoadingServer;
  let home: string;

  before(async () => {
    hub = await startFakeHub([
      { id: REPO, commits: { [COMMIT]: { 'stories260K-F32.gguf': readFileSync(STORIES) } }, refs: { main: COMMIT } },
    ]);
    // 1.2 MB at 250 kB/s: about five seconds of downloading.
    hub.faults.trickleBytesPerSecond = 250_000;
    home = mkdtempSync(join(tmpdir(), 'tgi-node-hf-home-'));
    server = await startLoadingServer(
      [],
      { HF_ENDPOINT: hub.url, HF_HOME: home, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: '' },
      REPO,
    );
  });

  after(async () => {
    await server?.stop();
    await hub?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers 503s while loading, serves a waiting request, then everything', async () => {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 503);
    const healthBody = await health.json();
    assert.equal(healthBody.error, 'unhealthy');
    assert.equal(healthBody.error_type, 'healthcheck');
    assert.ok(['downloading', 'loading'].includes(healthBody.status), healthBody.status);
    assert.ok(healthBody.progress >= 0 && healthBody.progress <= 1, String(healthBody.progress));
    // The bodies are the ones the OpenAPI document describes.
    assert.ok(UnhealthySchema.safeParse(healthBody).success, JSON.stringify(healthBody));

    const generate = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 20 } });
    assert.equal(generate.status, 503);
    assert.equal(generate.json.error, `Model ${REPO} is currently loading`);
    assert.equal(typeof generate.json.estimated_time, 'number');
    assert.ok(generate.json.estimated_time > 0);
    assert.ok(Number(generate.headers.get('retry-after')) >= 1);
    assert.ok(LoadingErrorSchema.safeParse(generate.json).success, JSON.stringify(generate.json));
    const chat = await postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(chat.status, 503);
    assert.equal(chat.json.error, `Model ${REPO} is currently loading`);

    // A waiting client that leaves before the model is ready is forgotten, never served.
    const leaving = new AbortController();
    const left = fetch(`${server.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wait-for-model': 'true' },
      body: JSON.stringify({ inputs: 'The dog', parameters: { max_new_tokens: 5 } }),
      signal: leaving.signal,
    }).catch(() => 'aborted');
    setTimeout(() => leaving.abort(), 100);
    assert.equal(await left, 'aborted');
    // Sent while loading, answered once the model is ready.
    const waiting = postJson(
      `${server.url}/generate`,
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 20 } },
      { 'x-wait-for-model': 'true' },
    );
    let settled = false;
    void waiting.then(() => (settled = true));
    const progress: number[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const during = await fetch(`${server.url}/health`);
      if (during.status !== 503) break;
      progress.push((await during.json()).progress);
    }
    assert.ok(progress.length > 0 && !settled, 'the model finished loading before the waiting request could be checked');
    assert.ok(
      progress.every((p, i) => i === 0 || p >= progress[i - 1]),
      `progress went back: ${progress.join(', ')}`,
    );

    const served = await waiting;
    assert.equal(served.status, 200);
    assert.ok(GREEDY_CONTINUATION.startsWith(served.json.generated_text), served.json.generated_text);
    assert.ok(served.json.generated_text.length > 10);

    await server.ready;
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const after = await postJson(
      `${server.url}/generate`,
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 20 } },
      { 'x-use-cache': 'false' },
    );
    assert.equal(after.status, 200);
    assert.equal(after.json.generated_text, served.json.generated_text);
    // The waiting request and this one reached the app; the 503s and the client that left did not.
    assert.equal(await metricValue(server.url, 'tgi_request_count'), 2);
  });
});
