// The API key (exact, constant-time, several keys), which routes need it, the metrics key, and
// CORS preflights that carry Authorization.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { InferenceClient, InferenceClientProviderApiError, setLogger } from '@huggingface/inference';
import { STORIES } from './helpers/models.js';
import { helpText, runLauncher, type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

const KEY = 'SeCrEt-Key-123';
const METRICS_KEY = 'metrics-key';
const ALLOWED_ORIGIN = 'https://allowed.example';

const GENERATE = { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } };
const CHAT = { model: 'tgi', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 2 };
const COMPLETION = { model: 'tgi', prompt: 'Once upon a time', max_tokens: 2 };

type Family = 'native' | 'openai';

/** Every route that works on request content, with a body it accepts. */
const PROTECTED: { path: string; body: unknown; family: Family }[] = [
  { path: '/', body: GENERATE, family: 'native' },
  { path: '/generate', body: GENERATE, family: 'native' },
  { path: '/generate_stream', body: GENERATE, family: 'native' },
  { path: '/tokenize', body: GENERATE, family: 'native' },
  { path: '/chat_tokenize', body: CHAT, family: 'native' },
  { path: '/invocations', body: CHAT, family: 'native' },
  { path: '/v1/chat/completions', body: CHAT, family: 'openai' },
  { path: '/v1/completions', body: COMPLETION, family: 'openai' },
];
const OPEN = ['/', '/health', '/ping', '/info', '/v1/models'];

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function keyFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-keys-')), 'keys.txt');
  writeFileSync(path, text);
  return path;
}

function assertRefused(r: { status: number; headers: Headers; json: any }, family: Family, what: RegExp, label: string): void {
  assert.equal(r.status, 401, label);
  assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer\b/, label);
  if (family === 'native') {
    // No error_type: huggingface_hub maps a body with one to a text-generation error without the
    // HTTP status (so `except HfHubHTTPError` and `status_code == 401` miss it); without one it
    // raises the HTTP error itself.
    assert.deepEqual(Object.keys(r.json ?? {}), ['error'], label);
    assert.match(r.json.error, what, label);
    assert.match(r.json.error, /Authorization: Bearer <key>/, label);
  } else {
    assert.deepEqual(Object.keys(r.json?.error ?? {}).sort(), ['code', 'message', 'param', 'type'], label);
    assert.equal(r.json.error.type, 'authentication_error', label);
    assert.equal(r.json.error.param, null, label);
    assert.match(r.json.error.message, what, label);
    assert.match(r.json.error.message, /Authorization: Bearer <key>/, label);
  }
}

describe('API keys given as flags and in a file', () => {
  let server: RunningServer;
  before(async () => {
    const file = keyFile('  file-key-1  \n\n\tfile-key-2\r\n   \n');
    server = await startServer([
      '--api-key',
      KEY,
      '--api-key',
      'second-key, third-key',
      '--api-key-file',
      file,
      '--metrics-api-key',
      METRICS_KEY,
      '--cors-allow-origin',
      ALLOWED_ORIGIN,
      '--max-total-tokens',
      '128',
    ]);
  });
  after(() => server.stop());

  it('a key in another case is refused with the family error body, on a native and an OpenAI route', async () => {
    for (const key of [KEY.toLowerCase(), KEY.toUpperCase()]) {
      assertRefused(await postJson(`${server.url}/generate`, GENERATE, bearer(key)), 'native', /^Invalid API key/, `/generate ${key}`);
      const chat = await postJson(`${server.url}/v1/chat/completions`, CHAT, bearer(key));
      assertRefused(chat, 'openai', /^Invalid API key/, `/v1/chat/completions ${key}`);
      assert.equal(chat.json.error.code, 'invalid_api_key');
      assert.equal(chat.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    }
  });

  it('the exact key is accepted, and the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const generated = await postJson(`${server.url}/generate`, GENERATE, { authorization: `${scheme} ${KEY}` });
      assert.equal(generated.status, 200, scheme);
      assert.equal(generated.json.generated_text, ', there');
    }
    const chat = await postJson(`${server.url}/v1/chat/completions`, CHAT, bearer(KEY));
    assert.equal(chat.status, 200);
    assert.equal(chat.json.object, 'chat.completion');
  });

  it('every key of the repeated flag, its comma list and the key file is accepted; others are refused', async () => {
    for (const key of [KEY, 'second-key', 'third-key', 'file-key-1', 'file-key-2']) {
      assert.equal((await postJson(`${server.url}/tokenize`, GENERATE, bearer(key))).status, 200, key);
    }
    for (const key of [
      'second-key, third-key',
      'second-key,third-key',
      'file-key',
      'file-key-12',
      `${KEY}x`,
      KEY.slice(0, -1),
      METRICS_KEY,
    ]) {
      assertRefused(await postJson(`${server.url}/tokenize`, GENERATE, bearer(key)), 'native', /^Invalid API key.*--api-key/, key);
    }
    for (const authorization of [KEY, `Basic ${KEY}`, `Bearer${KEY}`, 'Bearer ']) {
      const r = await postJson(`${server.url}/tokenize`, GENERATE, { authorization });
      assertRefused(r, 'native', /^Missing API key/, authorization);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
  });

  it('every route that works on request content refuses a request without a key, and serves it with one', async () => {
    for (const { path, body, family } of PROTECTED) {
      const refused = await postJson(`${server.url}${path}`, body);
      assertRefused(refused, family, /^Missing API key/, path);
      if (family === 'openai') assert.equal(refused.json.error.code, 'missing_api_key');
      const served = await postJson(`${server.url}${path}`, body, bearer(KEY));
      assert.equal(served.status, 200, `${path} with the key: ${served.text}`);
    }
  });

  it('a refusal comes before the body is looked at: a malformed body without a key is a 401', async () => {
    assertRefused(await postJson(`${server.url}/generate`, '{not json'), 'native', /^Missing API key/, 'bad JSON');
    const noType = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: '{}' });
    assert.equal(noType.status, 401);
  });

  it('health, info and the model list stay open', async () => {
    for (const path of OPEN) {
      const r = await fetch(`${server.url}${path}`);
      assert.equal(r.status, 200, path);
    }
    assert.equal((await fetch(`${server.url}/health`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${server.url}/no/such/route`, { method: 'POST' })).status, 404);
  });

  it('/metrics needs the metrics key, not a generation key', async () => {
    const refused = await fetch(`${server.url}/metrics`);
    assert.equal(refused.status, 401);
    const body = await refused.json();
    assert.deepEqual(Object.keys(body), ['error']);
    assert.match(body.error, /^Missing API key.*--metrics-api-key/);
    const generationKey = await fetch(`${server.url}/metrics`, { headers: bearer(KEY) });
    assert.equal(generationKey.status, 401);
    assert.match((await generationKey.json()).error, /^Invalid API key.*--metrics-api-key/);
    const allowed = await fetch(`${server.url}/metrics`, { headers: bearer(METRICS_KEY) });
    assert.equal(allowed.status, 200);
    assert.match(await allowed.text(), /^tgi_request_count /m);
  });

  it('a preflight carrying Authorization is allowed without a key, for the listed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.deepEqual(
      allowed.headers
        .get('access-control-allow-headers')
        ?.split(',')
        .map((h) => h.trim().toLowerCase())
        .sort(),
      ['authorization', 'content-type', 'x-use-cache', 'x-wait-for-model'],
    );
    const other = await preflight('https://other.example');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    // The browser can read a refusal and an answer from the allowed origin.
    const refused = await postJson(`${server.url}/v1/chat/completions`, CHAT, { origin: ALLOWED_ORIGIN });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    const served = await postJson(`${server.url}/v1/chat/completions`, CHAT, { origin: ALLOWED_ORIGIN, ...bearer(KEY) });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
  });

  it('every streamed route answers with the CORS headers of the listed origin, so a browser can read the stream', async () => {
    const streamed: { path: string; body: unknown; last: (data: string) => boolean }[] = [
      { path: '/generate_stream', body: GENERATE, last: (data) => typeof JSON.parse(data).generated_text === 'string' },
      { path: '/', body: { ...GENERATE, stream: true }, last: (data) => typeof JSON.parse(data).generated_text === 'string' },
      { path: '/v1/chat/completions', body: { ...CHAT, stream: true }, last: (data) => data === '[DONE]' },
      { path: '/v1/completions', body: { ...COMPLETION, stream: true }, last: (data) => data === '[DONE]' },
      { path: '/invocations', body: { ...CHAT, stream: true }, last: (data) => data === '[DONE]' },
      { path: '/invocations', body: { ...COMPLETION, stream: true }, last: (data) => data === '[DONE]' },
      { path: '/invocations', body: { ...GENERATE, stream: true }, last: (data) => typeof JSON.parse(data).generated_text === 'string' },
    ];
    for (const { path, body, last } of streamed) {
      const label = `${path} ${JSON.stringify(body)}`;
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ALLOWED_ORIGIN, ...bearer(KEY) },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, label);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/, label);
      assert.equal(response.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN, label);
      assert.match(response.headers.get('vary') ?? '', /\borigin\b/i, label);
      assert.ok(response.headers.get('x-compute-type'), label);
      const events = await readSse(response);
      assert.ok(events.length > 1, label);
      assert.ok(last(events.at(-1)!.data), `${label}: ${events.at(-1)?.data}`);
    }
    // Another origin gets no grant, on a stream as on a whole response.
    const other = await fetch(`${server.url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://other.example', ...bearer(KEY) },
      body: JSON.stringify(GENERATE),
    });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    await other.text();
  });

  it('the openai client works with a right key and gets an AuthenticationError with a wrong one', async () => {
    const right = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'file-key-2', maxRetries: 0 });
    const completion = await right.chat.completions.create({
      model: 'tgi',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 2,
    });
    assert.equal(completion.object, 'chat.completion');
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY.toLowerCase(), maxRetries: 0 });
    await assert.rejects(wrong.completions.create({ model: 'tgi', prompt: 'Once', max_tokens: 2 }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      assert.equal(error.type, 'authentication_error');
      return true;
    });
  });
});

/**
 * The exception huggingface_hub's InferenceClient raises for a failed TGI response (its
 * text-generation error parsing, restated): a body naming an `error_type` becomes a text-generation
 * error of that kind, which has lost the response and its status; any other body leaves the HTTP
 * error (HfHubHTTPError, with `response.status_code`) as it was raised.
 */
function huggingfaceHubRaises(status: number, body: unknown): { kind: 'http'; status: number } | { kind: 'text-generation' } {
  const errorType = typeof body === 'object' && body !== null ? (body as { error_type?: unknown }).error_type : undefined;
  return errorType === undefined || errorType === null ? { kind: 'http', status } : { kind: 'text-generation' };
}

describe('a refused native request, as the Hugging Face clients see it', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--api-key', KEY, '--max-total-tokens', '128']);
  });
  after(() => server.stop());

  it('huggingface_hub raises its HTTP error with status 401 on every native route, streamed or not', async () => {
    for (const path of ['/', '/generate', '/generate_stream', '/tokenize', '/invocations']) {
      for (const headers of [{}, bearer('wrong-key')]) {
        const refused = await postJson(`${server.url}${path}`, GENERATE, headers);
        assert.equal(refused.status, 401, path);
        assert.deepEqual(huggingfaceHubRaises(refused.status, refused.json), { kind: 'http', status: 401 }, `${path}: ${refused.text}`);
        assert.match(refused.json.error, /API key/, path);
      }
    }
    // The rule itself: a TGI error body with its error_type is still mapped, as before.
    assert.deepEqual(huggingfaceHubRaises(422, { error: 'Input validation error', error_type: 'validation' }), { kind: 'text-generation' });
  });

  it("@huggingface/inference reports a 401 with its status and the server's message, and works with the key", async () => {
    // request() and streamingRequest() are the client's calls for any route; they warn that they are deprecated.
    setLogger({ ...console, warn: () => undefined });
    const refusedBy = (error: unknown, what: RegExp) => {
      assert.ok(error instanceof InferenceClientProviderApiError, String(error));
      assert.equal(error.httpResponse.status, 401);
      assert.match(error.message, what);
      assert.equal((error.httpResponse.body as { error_type?: unknown }).error_type, undefined);
      return true;
    };
    const wrong = new InferenceClient('wrong-key', { endpointUrl: `${server.url}/generate` });
    await assert.rejects(wrong.request({ inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } }), (e) =>
      refusedBy(e, /Invalid API key/),
    );
    const stream = new InferenceClient(undefined, { endpointUrl: `${server.url}/generate_stream` });
    await assert.rejects(
      async () => {
        for await (const _ of stream.streamingRequest({ inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } })) void _;
      },
      (e) => refusedBy(e, /Missing API key/),
    );
    const right = new InferenceClient(KEY, { endpointUrl: `${server.url}/generate` });
    const answer = (await right.request({ inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } })) as { generated_text: string };
    assert.equal(answer.generated_text, ', there');
    setLogger(console);
  });
});

describe('API keys from the environment, without a metrics key or CORS origins', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-total-tokens', '128'], { API_KEY: 'env-key-1, env-key-2' });
  });
  after(() => server.stop());

  it('each key of API_KEY is accepted, others are refused', async () => {
    for (const key of ['env-key-1', 'env-key-2'])
      assert.equal((await postJson(`${server.url}/tokenize`, GENERATE, bearer(key))).status, 200, key);
    for (const key of ['env-key-1, env-key-2', 'ENV-KEY-1', 'env-key']) {
      assertRefused(await postJson(`${server.url}/tokenize`, GENERATE, bearer(key)), 'native', /^Invalid API key/, key);
    }
  });

  it('/metrics is open', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
  });

  it('a stream answers any origin with the wildcard grant', async () => {
    for (const [path, body] of [
      ['/generate_stream', GENERATE],
      ['/v1/chat/completions', { ...CHAT, stream: true }],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://anywhere.example', ...bearer('env-key-1') },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
      assert.ok((await readSse(response)).length > 1, path);
    }
  });

  it('a preflight carrying Authorization is allowed for any origin', async () => {
    const r = await fetch(`${server.url}/generate`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://anywhere.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'Authorization, Content-Type',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /\bauthorization\b/i);
  });
});

describe('API key configuration errors', () => {
  const run = (args: string[]) => runLauncher(['--model-id', STORIES, '--port', '0', ...args]);

  it('--help explains the key flags', () => {
    const help = helpText();
    assert.match(
      help,
      /--api-key <key> Require "Authorization: Bearer <key>" on every route that works on request content .*\/chat_tokenize.* comma-separate .*\(env: API_KEY\)/,
    );
    assert.match(help, /--api-key-file <path> File of API keys .* one a line.*\(env: API_KEY_FILE\)/);
    assert.match(help, /--metrics-api-key <key> Require "Authorization: Bearer <key>" on \/metrics .*\(env: METRICS_API_KEY\)/);
  });

  it('a missing or empty key file, or an empty --api-key, stops the launcher naming the problem', () => {
    const missing = join(tmpdir(), 'tgi-node-no-such-keys.txt');
    const cases: [string[], RegExp][] = [
      [['--api-key-file', missing], new RegExp(`--api-key-file: cannot read the API key file ${missing}: no such file`)],
      [['--api-key-file', keyFile(' \n\n')], /--api-key-file: the API key file \S+keys\.txt holds no key/],
      [['--api-key', ''], /--api-key is empty/],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stdout + result.stderr, message);
    }
  });
});
