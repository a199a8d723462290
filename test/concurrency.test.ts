// Admission under load: 429 beyond --max-concurrent-requests, and a client that disconnects
// mid-stream frees its sequence at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type RunningServer, startServer } from './helpers/server.js';
import { metricValue, postJson, stream, waitFor } from './helpers/http.js';
import { openStream, readSse } from './helpers/sse.js';

const PROMPTS = [
  'Once upon a time',
  'The little dog',
  'Lily and Tom went',
  'One day, a big bear',
  'The sun was',
  'Ben had a red',
  'In the park',
  'Mom said',
];

/** Opens a long stream and returns once its first token arrived; abort() drops the connection. */
async function openLongStream(url: string, maxNewTokens = 4000) {
  const opened = await openStream(`${url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: maxNewTokens } });
  assert.ok(opened.first.json.token, JSON.stringify(opened.first));
  return opened;
}

describe('overload', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer([
      '--max-concurrent-requests',
      '2',
      '--max-total-tokens',
      '4096',
      '--max-batch-size',
      '4',
      '--max-batch-total-tokens',
      '16384',
    ]);
  });
  after(() => server.stop());

  it('answers 429 Model is overloaded beyond --max-concurrent-requests, even for invalid requests', async () => {
    const a = await openLongStream(server.url);
    const b = await openLongStream(server.url);
    try {
      const r = await postJson(`${server.url}/generate`, { inputs: 'Hello', parameters: { max_new_tokens: 2 } });
      assert.equal(r.status, 429);
      assert.deepEqual(r.json, { error: 'Model is overloaded', error_type: 'overloaded' });
      const invalid = await postJson(`${server.url}/generate`, { inputs: 'Hello', parameters: { temperature: 0 } });
      assert.equal(invalid.status, 429);
      const streamed = await readSse(await stream(`${server.url}/generate_stream`, { inputs: 'Hello' }));
      assert.deepEqual(
        streamed.map((e) => e.json),
        [{ error: 'Model is overloaded', error_type: 'overloaded' }],
      );
    } finally {
      a.abort();
      b.abort();
    }
    assert.ok(
      await waitFor(
        async () =>
          (await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } })).status === 200,
      ),
    );
    assert.ok((await metricValue(server.url, 'tgi_request_failure', '{err="overloaded"}')) >= 3);
  });
});

describe('client disconnect', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-batch-size', '16', '--max-total-tokens', '4096']);
  });
  after(() => server.stop());

  it('frees the sequence at once, and the next 16 requests all run in parallel', async () => {
    const orphan = await openLongStream(server.url);
    assert.equal(await metricValue(server.url, 'tgi_batch_current_size'), 1);
    orphan.abort();
    assert.ok(
      await waitFor(async () => (await metricValue(server.url, 'tgi_request_failure', '{err="dropped"}')) === 1),
      'the disconnect was not noticed',
    );
    // The engine thread frees the sequence at its next step (the HTTP side counts the drop as soon
    // as it sees the disconnect, which can be a moment before).
    assert.ok(
      await waitFor(async () => (await metricValue(server.url, 'tgi_batch_current_size')) === 0, 1000),
      'the sequence was not freed',
    );

    const runs = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const events = await readSse(
          await stream(`${server.url}/generate_stream`, { inputs: PROMPTS[i % 8], parameters: { max_new_tokens: 300 } }),
        );
        assert.equal(events.length, 300);
        assert.equal(events.at(-1)!.json.details, null);
        return { first: events[0].receivedAt, last: events.at(-1)!.receivedAt };
      }),
    );
    // Had the orphan kept its slot, one of the 16 would have waited for it: its first token would
    // come after other streams had finished.
    const lastStart = Math.max(...runs.map((r) => r.first));
    const firstEnd = Math.min(...runs.map((r) => r.last));
    assert.ok(lastStart < firstEnd, 'some request waited for a slot');
    assert.equal(await metricValue(server.url, 'tgi_request_failure', '{err="dropped"}'), 1);
  });

  it('a non-streaming client that leaves is dropped too', async () => {
    const controller = new AbortController();
    const pending = fetch(`${server.url}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: 4000 } }),
      signal: controller.signal,
    }).catch(() => undefined);
    assert.ok(await waitFor(async () => (await metricValue(server.url, 'tgi_batch_current_size')) === 1));
    controller.abort();
    await pending;
    assert.ok(await waitFor(async () => (await metricValue(server.url, 'tgi_request_failure', '{err="dropped"}')) === 2));
    assert.ok(
      await waitFor(async () => (await metricValue(server.url, 'tgi_batch_current_size')) === 0, 1000),
      'the sequence was not freed',
    );
  });
});
