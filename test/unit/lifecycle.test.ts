// The request lifecycle of every generating face, in-process on a scripted backend: success, no
// permit left (429), an engine failure mid-stream (in-band error and end marker, or 424), a client
// that leaves (the backend sees the cancel), and the failure metrics each counts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeBackend, FINISHED, type Script } from '../helpers/fake-backend.js';
import { inProcessApp, type InProcessApp } from '../helpers/in-process-app.js';

const FAILING: Script = { tokens: ['Once', ' upon'], end: 'error', message: 'decode failed' };
const HANGING: Script = { tokens: ['Once'], end: 'hang' };

/** The `data:` payloads of an SSE body, JSON-parsed except [DONE]. */
function sseData(body: string): unknown[] {
  return body
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice(6))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

async function failures(t: InProcessApp): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const value of (await t.metrics.requestFailure.get()).values) counts[String(value.labels.err)] = value.value;
  return counts;
}

/** Yields to the event loop until `condition` holds (a bounded number of turns, no clock). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (await condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail('condition never held');
}

/** Listens on a loopback port and posts `body` to `path` over a socket the test may destroy (a client leaving). */
async function postOverSocket(t: InProcessApp, path: string, body: unknown): Promise<ClientRequest> {
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  const client = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' } });
  client.on('error', () => undefined);
  client.end(JSON.stringify(body));
  return client;
}

async function setUp(script?: Script): Promise<{ t: InProcessApp; backend: FakeBackend }> {
  const backend = new FakeBackend();
  if (script) backend.script = () => script;
  const t = await inProcessApp({ backend });
  return { t, backend };
}

interface Face {
  name: string;
  url: string;
  body: (stream: boolean) => Record<string, unknown>;
  /** The text a finished generation of FINISHED answers, from the whole body. */
  text: (json: unknown) => string;
  /** The text of the streamed events. */
  streamedText: (events: unknown[]) => string;
  overloaded: unknown;
  failed: unknown;
  /** What the stream ends with after its error event. */
  endMarker: unknown[];
}

const nativeOverloaded = { error: 'Model is overloaded', error_type: 'overloaded' };
const nativeFailed = { error: 'Request failed during generation: decode failed', error_type: 'generation' };
const openAiOverloaded = { error: { message: 'Model is overloaded', type: 'rate_limit_error', param: null, code: 'overloaded' } };
const openAiFailed = {
  error: { message: 'Request failed during generation: decode failed', type: 'invalid_request_error', param: null, code: 'generation' },
};

type Chunk = { choices: { delta?: { content?: string }; text?: string }[] };

const faces: Face[] = [
  {
    name: 'native',
    url: '/generate',
    body: () => ({ inputs: 'Hello', parameters: { max_new_tokens: 4 } }),
    text: (json) => (json as { generated_text: string }).generated_text,
    streamedText: (events) => (events as { token: { text: string } }[]).map((e) => e.token.text).join(''),
    overloaded: nativeOverloaded,
    failed: nativeFailed,
    endMarker: [],
  },
  {
    name: 'chat',
    url: '/v1/chat/completions',
    body: (stream) => ({ messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4, stream }),
    text: (json) => (json as { choices: { message: { content: string } }[] }).choices[0].message.content,
    streamedText: (events) => (events as Chunk[]).map((e) => e.choices[0]?.delta?.content ?? '').join(''),
    overloaded: openAiOverloaded,
    failed: openAiFailed,
    endMarker: ['[DONE]'],
  },
  {
    name: 'completions',
    url: '/v1/completions',
    body: (stream) => ({ prompt: 'Hello', max_tokens: 4, stream }),
    text: (json) => (json as { choices: { text: string }[] }).choices[0].text,
    streamedText: (events) => (events as Chunk[]).map((e) => e.choices[0]?.text ?? '').join(''),
    overloaded: openAiOverloaded,
    failed: openAiFailed,
    endMarker: ['[DONE]'],
  },
];

const streamUrl = (face: Face) => (face.name === 'native' ? '/generate_stream' : face.url);

describe('request lifecycle: POST / and /invocations', () => {
  it('answer a whole generation as a one-element array, with the full text for text-generation models', async () => {
    const { t } = await setUp();
    for (const url of ['/', '/invocations']) {
      const r = await t.app.inject({ method: 'POST', url, payload: { inputs: 'Hello', parameters: { max_new_tokens: 4 } } });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json(), [{ generated_text: 'Hello' + FINISHED.tokens.join('') }]);
    }
    await t.app.close();
  });

  it('stream when the body asks to', async () => {
    const { t } = await setUp();
    const r = await t.app.inject({
      method: 'POST',
      url: '/',
      payload: { inputs: 'Hello', parameters: { max_new_tokens: 4 }, stream: true },
    });
    const events = sseData(r.body) as { generated_text: string | null }[];
    assert.equal(events.length, FINISHED.tokens.length);
    assert.equal(events.at(-1)!.generated_text, 'Hello' + FINISHED.tokens.join(''));
    await t.app.close();
  });
});

for (const face of faces) {
  describe(`request lifecycle: ${face.name}`, () => {
    it('answers a whole generation', async () => {
      const { t, backend } = await setUp();
      const r = await t.app.inject({ method: 'POST', url: face.url, payload: face.body(false) });
      assert.equal(r.statusCode, 200);
      assert.equal(face.text(r.json()), FINISHED.tokens.join(''));
      assert.equal(r.headers['x-compute-type'], 'cpu+test');
      assert.equal(r.headers['x-generated-tokens'], String(FINISHED.tokens.length));
      assert.equal(backend.submitted.length, 1);
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      assert.equal(await t.metrics.requestSuccess.get().then((m) => m.values[0].value), 1);
      await t.app.close();
    });

    it('streams a generation to its end', async () => {
      const { t } = await setUp();
      const r = await t.app.inject({ method: 'POST', url: streamUrl(face), payload: face.body(true) });
      assert.equal(r.statusCode, 200);
      assert.match(String(r.headers['content-type']), /^text\/event-stream/);
      const events = sseData(r.body);
      const done = events.filter((e) => e === '[DONE]');
      assert.deepEqual(done, face.endMarker);
      assert.equal(face.streamedText(events.filter((e) => e !== '[DONE]')), FINISHED.tokens.join(''));
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      await t.app.close();
    });

    it('answers 429 in its family when no permit is left, and counts it', async () => {
      const { t, backend } = await setUp();
      const hold = t.generator.permits.tryAcquire(t.generator.permits.capacity)!;
      const whole = await t.app.inject({ method: 'POST', url: face.url, payload: face.body(false) });
      assert.equal(whole.statusCode, 429);
      assert.deepEqual(whole.json(), face.overloaded);
      const streamed = await t.app.inject({ method: 'POST', url: streamUrl(face), payload: face.body(true) });
      if (face.name === 'native') {
        // TGI's stream has begun when the permit is refused: the error is its one event.
        assert.equal(streamed.statusCode, 200);
        assert.deepEqual(sseData(streamed.body), [face.overloaded]);
      } else {
        assert.equal(streamed.statusCode, 429);
        assert.deepEqual(streamed.json(), face.overloaded);
      }
      assert.equal(backend.submitted.length, 0);
      assert.equal((await failures(t)).overloaded, 2);
      hold();
      await t.app.close();
    });

    it('answers 422 in its family for a request that breaks a rule, and counts it', async () => {
      const { t, backend } = await setUp();
      const body = face.body(false);
      const r = await t.app.inject({
        method: 'POST',
        url: face.url,
        payload: face.name === 'native' ? { ...body, parameters: { top_p: 2 } } : { ...body, top_p: 2 },
      });
      assert.equal(r.statusCode, 422);
      const json = r.json();
      if (face.name === 'native') assert.equal(json.error_type, 'validation');
      else
        assert.deepEqual(
          { type: json.error.type, code: json.error.code, param: json.error.param },
          { type: 'invalid_request_error', code: 'validation', param: 'top_p' },
        );
      assert.equal(backend.submitted.length, 0);
      assert.equal((await failures(t)).validation, 1);
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      await t.app.close();
    });

    it('answers 424 in its family when the engine fails, and counts it', async () => {
      const { t } = await setUp(FAILING);
      const r = await t.app.inject({ method: 'POST', url: face.url, payload: face.body(false) });
      assert.equal(r.statusCode, 424);
      assert.deepEqual(r.json(), face.failed);
      assert.equal((await failures(t)).generation, 1);
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      await t.app.close();
    });

    it('ends a stream that fails mid-way with its error event, then its end marker', async () => {
      const { t } = await setUp(FAILING);
      const r = await t.app.inject({ method: 'POST', url: streamUrl(face), payload: face.body(true) });
      assert.equal(r.statusCode, 200);
      const events = sseData(r.body);
      const tail = events.slice(events.length - 1 - face.endMarker.length);
      assert.deepEqual(tail, [face.failed, ...face.endMarker]);
      assert.equal(face.streamedText(events.slice(0, events.length - tail.length)), 'Once upon');
      assert.equal((await failures(t)).generation, 1);
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      await t.app.close();
    });

    it('answers 503 in its family when shutdown stops the generation', async () => {
      const { t, backend } = await setUp(HANGING);
      const shutdown =
        face.name === 'native'
          ? { error: 'The server is shutting down', error_type: 'shutdown' }
          : { error: { message: 'The server is shutting down', type: 'server_error', param: null, code: 'shutdown' } };
      const whole = t.app.inject({ method: 'POST', url: face.url, payload: face.body(false) });
      await until(() => backend.open === 1);
      backend.stopAll();
      const r = await whole;
      assert.equal(r.statusCode, 503);
      assert.deepEqual(r.json(), shutdown);
      const streamed = t.app.inject({ method: 'POST', url: streamUrl(face), payload: face.body(true) });
      await until(() => backend.open === 1);
      backend.stopAll();
      const events = sseData((await streamed).body);
      assert.deepEqual(events.slice(events.length - 1 - face.endMarker.length), [shutdown, ...face.endMarker]);
      assert.equal(t.generator.permits.available, t.generator.permits.capacity);
      await t.app.close();
    });

    for (const stream of [true, false]) {
      it(`cancels the generation when the client leaves (${stream ? 'stream' : 'whole answer'}), and counts it`, async () => {
        const { t, backend } = await setUp(HANGING);
        const cancelled = backend.nextCancel();
        const client = await postOverSocket(t, stream ? streamUrl(face) : face.url, face.body(stream));
        if (stream) {
          // Leave once the first token has arrived.
          await new Promise<void>((resolve) => client.on('response', (response) => response.once('data', () => resolve())));
        } else {
          await until(() => backend.submitted.length === 1);
        }
        client.destroy();
        assert.equal(await cancelled, 1);
        await until(async () => (await failures(t)).dropped === 1);
        await until(() => t.generator.permits.available === t.generator.permits.capacity);
        assert.equal(backend.open, 0);
        await t.app.close();
      });
    }

    it('cancels the generation at once when the client left while the request was being prepared', async () => {
      const { t, backend } = await setUp(HANGING);
      // Tokenizing waits until the client has gone (as a slow image encode would).
      const preprocessor = t.generator.preprocessor;
      const tokenize = preprocessor.tokenize.bind(preprocessor);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let reached!: () => void;
      const tokenizing = new Promise<void>((resolve) => (reached = resolve));
      preprocessor.tokenize = async (text, addSpecial) => {
        reached();
        await gate;
        return tokenize(text, addSpecial);
      };
      const cancelled = backend.nextCancel();
      const client = await postOverSocket(t, face.url, face.body(false));
      await tokenizing;
      client.destroy();
      // The server has seen the connection close before the request goes on.
      await until(() => new Promise<boolean>((resolve) => t.app.server.getConnections((_, count) => resolve(count === 0))));
      release();
      assert.equal(await cancelled, 1);
      await until(() => t.generator.permits.available === t.generator.permits.capacity);
      assert.equal(backend.open, 0);
      await t.app.close();
    });
  });
}
