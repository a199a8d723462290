// The response cache on the real server: deterministic requests (greedy, or sampled from the
// client's seed) are answered again from memory, streamed or not, byte for byte but for an OpenAI
// answer's own id and created; x-use-cache: false goes around it; random, failed and
// unauthenticated requests never get a cached answer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GREEDY_CONTINUATION } from './helpers/models.js';
import { helpText, type RunningServer, startServer } from './helpers/server.js';
import { metricValue, postJson } from './helpers/http.js';
import { sseData } from './helpers/sse.js';

const KEY = 'cache-test-key';
const AUTH = { authorization: `Bearer ${KEY}` };

interface Answer {
  status: number;
  cache: string | null;
  contentType: string | null;
  headers: Headers;
  text: string;
}

/** POSTs `body` (a string is sent as written) and reads the whole answer, stream or not. */
async function send(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const { status, headers: received, text } = await postJson(url, body, headers);
  return { status, cache: received.get('x-cache'), contentType: received.get('content-type'), headers: received, text };
}

/** The `data:` payloads of an SSE body, parsed unless [DONE]. */
const events = (text: string) => sseData(text).map((data) => (data === '[DONE]' ? data : JSON.parse(data)));

/** An OpenAI answer (JSON or stream) with its ids and creation times blanked: its content. */
const content = (text: string) => text.replace(/"id":"(chatcmpl|cmpl)-[0-9a-f]+"/g, '"id":"$1-"').replace(/"created":\d+/g, '"created":0');

/** The ids and creation times of an OpenAI answer, JSON or stream, each once. */
const identities = (text: string) => ({
  ids: [...new Set([...text.matchAll(/"id":"((?:chatcmpl|cmpl)-[0-9a-f]+)"/g)].map((m) => m[1]))],
  created: [...new Set([...text.matchAll(/"created":(\d+)/g)].map((m) => Number(m[1])))],
});

describe('response cache', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--api-key', KEY]);
  });
  after(() => server.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    send(`${server.url}${path}`, body, { ...AUTH, ...headers });

  it('a repeated greedy /generate is a miss, then a hit with the same bytes and headers', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 24, details: true } };
    const first = await post('/generate', body);
    const second = await post('/generate', body);
    assert.equal(first.status, 200);
    assert.equal(first.cache, 'miss');
    assert.ok(JSON.parse(first.text).generated_text.startsWith(GREEDY_CONTINUATION.slice(0, 40)), first.text);
    assert.equal(second.status, 200);
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
    assert.equal(second.contentType, first.contentType);
    for (const name of ['x-compute-type', 'x-compute-characters', 'x-prompt-tokens', 'x-generated-tokens'])
      assert.equal(second.headers.get(name), first.headers.get(name), name);
    assert.equal(second.headers.get('x-generated-tokens'), '24');
    // The timings are the hit's own: no queue, no inference.
    for (const name of ['x-compute-time', 'x-total-time', 'x-validation-time']) assert.ok(second.headers.get(name) !== null, name);
    assert.equal(second.headers.get('x-inference-time'), '0');
    assert.equal(second.headers.get('x-queue-time'), '0');
  });

  it('a repeated greedy /generate_stream replays the same event bytes', async () => {
    const body = { inputs: 'The little dog', parameters: { max_new_tokens: 16, details: true } };
    const first = await post('/generate_stream', body);
    const second = await post('/generate_stream', body);
    assert.equal(first.cache, 'miss');
    assert.equal(second.cache, 'hit');
    assert.equal(second.contentType, 'text/event-stream');
    assert.equal(second.headers.get('x-accel-buffering'), 'no');
    assert.equal(second.headers.get('x-compute-characters'), first.headers.get('x-compute-characters'));
    assert.equal(second.text, first.text);
    const replayed = events(second.text);
    assert.equal(replayed.length, 16);
    assert.equal(replayed.at(-1).details.generated_tokens, 16);
    assert.equal(replayed.at(-1).generated_text, replayed.map((e) => e.token.text).join(''));
  });

  it('a repeated greedy chat completion is a hit, streamed or not, each form its own entry', async () => {
    const body = { messages: [{ role: 'user', content: 'Tell me about Lily' }], max_tokens: 12, temperature: 0 };
    const first = await post('/v1/chat/completions', body);
    const second = await post('/v1/chat/completions', body);
    assert.equal(first.cache, 'miss');
    assert.equal(second.cache, 'hit');
    assert.equal(content(second.text), content(first.text));
    const completion = JSON.parse(second.text);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.usage.completion_tokens, 12);

    const streamed = await post('/v1/chat/completions', { ...body, stream: true });
    assert.equal(streamed.cache, 'miss', 'the stream is not the JSON answer');
    const again = await post('/v1/chat/completions', { ...body, stream: true });
    assert.equal(again.cache, 'hit');
    assert.equal(content(again.text), content(streamed.text));
    const chunks = events(again.text);
    assert.equal(chunks.at(-1), '[DONE]');
    const text = chunks
      .slice(0, -1)
      .map((c) => c.choices[0]?.delta?.content ?? '')
      .join('');
    assert.equal(text, completion.choices[0].message.content);
  });

  it('a hit keeps the content of an OpenAI answer but gets its own id and created, streamed or not', async () => {
    const chat = { messages: [{ role: 'user', content: 'Where did Tom go?' }], max_tokens: 10, temperature: 0 };
    const completion = { prompt: 'The cat sat', max_tokens: 10, temperature: 0 };
    const cases: [string, unknown, RegExp][] = [
      ['/v1/chat/completions', chat, /^chatcmpl-[0-9a-f]+$/],
      ['/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } }, /^chatcmpl-[0-9a-f]+$/],
      ['/v1/completions', completion, /^cmpl-[0-9a-f]+$/],
      ['/v1/completions', { ...completion, stream: true }, /^cmpl-[0-9a-f]+$/],
      ['/invocations', chat, /^chatcmpl-[0-9a-f]+$/],
      ['/invocations', { ...completion, stream: true }, /^cmpl-[0-9a-f]+$/],
    ];
    const firsts: Answer[] = [];
    for (const [path, body] of cases) firsts.push(await post(path, body));
    // Into the next second, so that a fresh `created` shows.
    const latest = Math.max(...firsts.map((first) => identities(first.text).created[0]));
    while (Math.floor(Date.now() / 1000) <= latest) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [i, [path, body, idPattern]] of cases.entries()) {
      const label = `${path} ${JSON.stringify(body)}`;
      const first = firsts[i];
      const second = await post(path, body);
      assert.deepEqual([first.status, first.cache, second.status, second.cache], [200, 'miss', 200, 'hit'], label);
      assert.equal(content(second.text), content(first.text), `${label}: the same content`);
      const [was, is] = [identities(first.text), identities(second.text)];
      // One id and one created per answer: every chunk of a replayed stream shares them.
      assert.equal(was.ids.length, 1, label);
      assert.equal(is.ids.length, 1, `${label}: ${second.text.slice(0, 400)}`);
      assert.match(is.ids[0], idPattern, label);
      assert.notEqual(is.ids[0], was.ids[0], `${label}: a fresh id`);
      assert.equal(is.created.length, 1, label);
      assert.ok(is.created[0] > was.created[0], `${label}: a fresh created (${was.created[0]} then ${is.created[0]})`);
      if ((body as { stream?: boolean }).stream) assert.ok(events(second.text).length > 2, label);
    }
    // A third hit gets yet another id.
    const third = await post('/v1/chat/completions', chat);
    assert.equal(third.cache, 'hit');
    assert.notEqual(identities(third.text).ids[0], identities((await post('/v1/chat/completions', chat)).text).ids[0]);
  });

  it('POST /, /v1/completions and /invocations cache their deterministic answers too', async () => {
    const cases: [string, unknown][] = [
      ['/', { inputs: 'Lily and Tom went', parameters: { max_new_tokens: 6 } }],
      ['/', { inputs: 'Lily and Tom went', parameters: { max_new_tokens: 6 }, stream: true }],
      ['/v1/completions', { prompt: 'One day, a big bear', max_tokens: 6, temperature: 0 }],
      ['/v1/completions', { prompt: 'One day, a big bear', max_tokens: 6, temperature: 0, stream: true }],
      ['/invocations', { inputs: 'Lily and Tom went', parameters: { max_new_tokens: 6 } }],
    ];
    for (const [path, body] of cases) {
      const label = `${path} ${JSON.stringify(body)}`;
      const first = await post(path, body);
      const second = await post(path, body);
      assert.equal(first.status, 200, label);
      assert.deepEqual([first.cache, second.cache], ['miss', 'hit'], label);
      assert.equal(content(second.text), content(first.text), label);
      if (path === '/') assert.equal(second.text, first.text, label);
    }
  });

  it('a sampled request with an explicit seed is a hit; one without a seed never is', async () => {
    const seeded = {
      inputs: 'Once upon a time',
      parameters: { do_sample: true, temperature: 1.5, seed: 42, max_new_tokens: 20, details: true },
    };
    const first = await post('/generate', seeded);
    const second = await post('/generate', seeded);
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit']);
    assert.equal(second.text, first.text);
    assert.equal(JSON.parse(second.text).details.seed, 42);

    const chatSeeded = { messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 10, seed: 7 };
    const chatFirst = await post('/v1/chat/completions', chatSeeded);
    const chatSecond = await post('/v1/chat/completions', chatSeeded);
    assert.deepEqual([chatFirst.cache, chatSecond.cache], ['miss', 'hit']);

    // Without a seed each answer is a new draw (they may differ): none is ever served from the cache.
    const unseeded = { inputs: 'Once upon a time', parameters: { do_sample: true, temperature: 1.5, max_new_tokens: 20, details: true } };
    const seeds = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const r = await post('/generate', unseeded);
      assert.equal(r.status, 200);
      assert.equal(r.cache, 'miss');
      seeds.add(JSON.parse(r.text).details.seed);
    }
    assert.equal(seeds.size, 3, 'each unseeded request drew its own seed');
    for (let i = 0; i < 2; i++)
      assert.equal(
        (await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 10 })).cache,
        'miss',
      );
    // best_of draws random seeds for its candidates, and OpenAI's n without a seed too.
    const bestOf = { inputs: 'Once upon a time', parameters: { best_of: 2, do_sample: true, max_new_tokens: 5 } };
    assert.equal((await post('/generate', bestOf)).cache, 'miss');
    assert.equal((await post('/generate', bestOf)).cache, 'miss');
    const choices = { prompt: 'Once upon a time', max_tokens: 5, n: 2 };
    assert.equal((await post('/v1/completions', choices)).cache, 'miss');
    assert.equal((await post('/v1/completions', choices)).cache, 'miss');
  });

  it('x-use-cache: false answers without the cache, keeps nothing and evicts nothing', async () => {
    const body = { inputs: 'In the park', parameters: { max_new_tokens: 8 } };
    const bypassed = await post('/generate', body, { 'x-use-cache': 'false' });
    assert.equal(bypassed.status, 200);
    assert.equal(bypassed.cache, 'miss');
    const first = await post('/generate', body);
    assert.equal(first.cache, 'miss', 'the bypassed answer was not kept');
    assert.equal(first.text, bypassed.text);
    assert.equal((await post('/generate', body, { 'x-use-cache': 'FALSE' })).cache, 'miss');
    const streamBypassed = await post('/generate_stream', body, { 'x-use-cache': 'False' });
    assert.equal(streamBypassed.cache, 'miss');
    const after = await post('/generate', body);
    assert.equal(after.cache, 'hit', 'the bypass did not evict the entry');
    assert.equal(after.text, first.text);
    // Any other value uses the cache.
    assert.equal((await post('/generate', body, { 'x-use-cache': 'true' })).cache, 'hit');
  });

  it('bodies that differ only in key order share an entry', async () => {
    const first = await post('/generate', '{"inputs":"Mom said","parameters":{"max_new_tokens":7,"details":true,"stop":["."]}}');
    const reordered = await post(
      '/generate',
      '{ "parameters": {"stop": ["."], "details": true, "max_new_tokens": 7}, "inputs": "Mom said" }',
    );
    assert.equal(first.cache, 'miss');
    assert.equal(reordered.cache, 'hit');
    assert.equal(reordered.text, first.text);
    const other = await post('/generate', '{"inputs":"Mom said","parameters":{"max_new_tokens":7,"details":true,"stop":[","]}}');
    assert.equal(other.cache, 'miss', 'another value is another request');
  });

  it('never keeps an error', async () => {
    const invalid = { inputs: 'Ben had a red', parameters: { max_new_tokens: 5, top_p: 1.0 } };
    for (let i = 0; i < 2; i++) {
      const r = await post('/generate', invalid);
      assert.equal(r.status, 422);
      assert.equal(r.cache, 'miss');
      assert.deepEqual(JSON.parse(r.text), { error: 'Input validation error: `top_p` must be > 0.0 and < 1.0', error_type: 'validation' });
    }
    // In a stream the error comes in-band with a 200: not kept either.
    for (let i = 0; i < 2; i++) {
      const r = await post('/generate_stream', invalid);
      assert.equal(r.status, 200);
      assert.equal(r.cache, 'miss');
      assert.deepEqual(events(r.text), [{ error: 'Input validation error: `top_p` must be > 0.0 and < 1.0', error_type: 'validation' }]);
    }
    // Malformed bodies are refused before the cache is consulted, as before it existed.
    const malformed = await post('/generate', '{"inputs": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.cache, null);
    assert.equal(JSON.parse(malformed.text).error_type, 'validation');
  });

  it('counts hits and misses; a hit is a served request but no generation', async () => {
    const metric = (name: string) => metricValue(server.url, name);
    const names = [
      'tgi_response_cache_hits',
      'tgi_response_cache_misses',
      'tgi_request_count',
      'tgi_request_success',
      'tgi_request_duration_count',
      'tgi_request_generated_tokens_count',
    ];
    const before = await Promise.all(names.map(metric));
    const body = { inputs: 'The sun was', parameters: { max_new_tokens: 9 } };
    await post('/generate', body);
    await post('/generate', body);
    await post('/generate', body);
    const after = await Promise.all(names.map(metric));
    const delta = Object.fromEntries(names.map((name, i) => [name, after[i] - before[i]]));
    assert.deepEqual(delta, {
      tgi_response_cache_hits: 2,
      tgi_response_cache_misses: 1,
      tgi_request_count: 3,
      tgi_request_success: 3,
      tgi_request_duration_count: 1,
      tgi_request_generated_tokens_count: 1,
    });
    assert.ok((await metric('tgi_response_cache_bytes')) > 0);
  });

  it('a request without the API key gets a 401, never a cached answer', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 5 } };
    await post('/generate', body);
    assert.equal((await post('/generate', body)).cache, 'hit');
    const hits = await metricValue(server.url, 'tgi_response_cache_hits');
    for (const headers of [{}, { authorization: 'Bearer wrong-key' }] as Record<string, string>[]) {
      const refused = await send(`${server.url}/generate`, body, headers);
      assert.equal(refused.status, 401);
      assert.equal(refused.cache, null);
      assert.match(JSON.parse(refused.text).error, /API key/);
      assert.doesNotMatch(refused.text, /generated_text/);
    }
    assert.equal(await metricValue(server.url, 'tgi_response_cache_hits'), hits);
  });
});

describe('response cache hits and the concurrency limit', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-concurrent-requests', '1', '--max-total-tokens', '4096']);
  });
  after(() => server.stop());

  it('a hit needs no permit: it is answered while the only one is taken', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 10 } };
    const first = await postJson(`${server.url}/generate`, body);
    assert.equal(first.headers.get('x-cache'), 'miss');
    // A stream of a second or more holds the only permit meanwhile.
    const long = await fetch(`${server.url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: 'The little dog', parameters: { max_new_tokens: 1000 } }),
    });
    const reader = long.body!.getReader();
    await reader.read();
    const overloaded = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 11 } });
    const hit = await postJson(`${server.url}/generate`, body);
    let streamed = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) streamed += new TextDecoder().decode(chunk.value);
    assert.equal(overloaded.status, 429);
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-cache'), 'hit');
    assert.equal(hit.text, first.text);
    assert.match(streamed, /"generated_text":"/, 'the stream ran to its end meanwhile');
  });
});

describe('--response-cache-size 0', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--response-cache-size', '0']);
  });
  after(() => server.stop());

  it('answers every request by generating, without an x-cache header', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 12 } };
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await send(`${server.url}/generate`, body));
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.cache, null);
      assert.notEqual(a.headers.get('x-inference-time'), null);
    }
    assert.equal(answers[2].text, answers[0].text, 'greedy: the same text, generated again');
    const streamed = await send(`${server.url}/generate_stream`, body);
    assert.equal(streamed.cache, null);
    assert.equal(await metricValue(server.url, 'tgi_request_duration_count'), 4);
    assert.equal(await metricValue(server.url, 'tgi_response_cache_hits'), 0);
    assert.equal(await metricValue(server.url, 'tgi_response_cache_bytes'), 0);
  });

  it('--help explains the flag, its variable and the headers', () => {
    const help = helpText();
    assert.match(help, /--response-cache-size <MiB> Memory of the response cache in MiB; 0 disables it\./);
    assert.match(help, /x-cache: hit or miss; a request with the header x-use-cache: false/);
    assert.match(help, /\(default: 64, env: RESPONSE_CACHE_SIZE\)/);
  });
});
