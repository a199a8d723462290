// The OpenAPI document: valid OpenAPI 3.1, every route, this server's limits, schemas that the real
// responses satisfy; and /docs rendering it in a real browser.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

const ROUTES: Record<string, string[]> = {
  '/': ['post'],
  '/generate': ['post'],
  '/generate_stream': ['post'],
  '/v1/chat/completions': ['post'],
  '/v1/completions': ['post'],
  '/v1/models': ['get'],
  '/v1/models/{model}': ['get'],
  '/tokenize': ['post'],
  '/chat_tokenize': ['post'],
  '/invocations': ['post'],
  '/health': ['get'],
  '/info': ['get'],
  '/metrics': ['get'],
  '/watermark/detect': ['post'],
};

/** Debian's chromium, if this machine has it (CI installs it). */
function chromiumPath(): string | undefined {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

describe('OpenAPI document and /docs', () => {
  let server: RunningServer;
  let document: any;
  let ajv: Ajv2020;

  before(async () => {
    server = await startServer(['--max-stop-sequences', '3', '--max-total-tokens', '200', '--max-input-tokens', '150']);
    const response = await fetch(`${server.url}/api-doc/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    document = await response.json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'openapi', components: document.components });
  });

  after(async () => {
    await server?.stop();
  });

  /** Checks a real body against the document's component schema. */
  function assertMatches(component: string, body: unknown): void {
    const validate =
      ajv.getSchema(`openapi#/components/schemas/${component}`) ?? ajv.compile({ $ref: `openapi#/components/schemas/${component}` });
    assert.ok(validate(body), `${component}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(body).slice(0, 500)}`);
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.info.title, 'Text Generation Inference');
    assert.equal(document.info.license.name, 'Apache 2.0');
    const result = await new Validator().validate(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
  });

  it('describes every route, with request and response schemas', () => {
    for (const [path, methods] of Object.entries(ROUTES)) {
      for (const method of methods) {
        const operation = document.paths[path]?.[method];
        assert.ok(operation, `${method.toUpperCase()} ${path} is missing`);
        assert.ok(operation.responses['200'], `${path} has no 200 response`);
        if (method === 'post') assert.ok(operation.requestBody.content['application/json'].schema.$ref, `${path} has no request schema`);
      }
    }
    const generate = document.paths['/generate'].post;
    for (const status of ['422', '424', '429'])
      assert.equal(generate.responses[status].content['application/json'].schema.$ref, '#/components/schemas/ErrorResponse');
    assert.equal(
      document.paths['/v1/chat/completions'].post.responses['422'].content['application/json'].schema.$ref,
      '#/components/schemas/OpenAiErrorResponse',
    );
    assert.equal(document.paths['/health'].get.responses['503'].content['application/json'].schema.$ref, '#/components/schemas/Unhealthy');
    // A native 401 is the message alone (no error_type: huggingface_hub keeps it an HTTP error).
    for (const path of ['/generate', '/generate_stream', '/invocations', '/tokenize'])
      assert.equal(
        document.paths[path].post.responses['401'].content['application/json'].schema.$ref,
        '#/components/schemas/AuthenticationError',
        path,
      );
    assert.equal(
      document.paths['/metrics'].get.responses['401'].content['application/json'].schema.$ref,
      '#/components/schemas/AuthenticationError',
    );
    assert.equal(
      document.paths['/v1/chat/completions'].post.responses['401'].content['application/json'].schema.$ref,
      '#/components/schemas/OpenAiErrorResponse',
    );
    const headers = generate.parameters.map((p: { name: string }) => p.name);
    assert.deepEqual(headers, ['x-wait-for-model', 'x-use-cache']);
    assert.ok(generate.responses['200'].headers['x-cache']);
  });

  it("gives this server's limits and the real defaults", async () => {
    const info = await (await fetch(`${server.url}/info`)).json();
    const parameters = document.components.schemas.GenerateRequest.properties.parameters.properties;
    assert.equal(parameters.stop.maxItems, 3);
    assert.equal(info.max_stop_sequences, 3);
    assert.match(parameters.max_new_tokens.description, /max_total_tokens \(200\)/);
    assert.equal(parameters.do_sample.default, false);
    assert.match(parameters.truncate.description, /<= 150/);
    assert.equal(parameters.seed.anyOf[0].type, 'integer');
    assert.match(document.components.schemas.GenerateRequest.properties.parameters.description, /do_sample defaults to true/);
  });

  it('describes the bodies the server really sends', async () => {
    const generated = await postJson(`${server.url}/generate`, {
      inputs: 'Once upon a time',
      parameters: { max_new_tokens: 5, details: true, decoder_input_details: true, top_n_tokens: 2 },
    });
    assert.equal(generated.status, 200);
    assertMatches('GenerateResponse', generated.json);
    const events = await readSse(
      await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3, details: true } }),
    );
    for (const event of events) assertMatches('StreamResponse', JSON.parse(event.data));
    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
      logprobs: true,
      top_logprobs: 2,
    });
    assert.equal(chat.status, 200);
    assertMatches('ChatCompletion', chat.json);
    const completion = await postJson(`${server.url}/v1/completions`, { prompt: 'Once', max_tokens: 4, logprobs: 2 });
    assertMatches('Completion', completion.json);
    assertMatches('Info', await (await fetch(`${server.url}/info`)).json());
    assertMatches('ModelList', await (await fetch(`${server.url}/v1/models`)).json());
    const served = (await (await fetch(`${server.url}/v1/models`)).json()).data[0].id;
    assertMatches('Model', await (await fetch(`${server.url}/v1/models/${encodeURIComponent(served)}`)).json());
    assertMatches('OpenAiErrorResponse', await (await fetch(`${server.url}/v1/models/nope`)).json());
    assertMatches('TokenizeResponse', (await postJson(`${server.url}/tokenize`, { inputs: 'Once upon' })).json);
    assertMatches(
      'ChatTokenizeResponse',
      (await postJson(`${server.url}/chat_tokenize`, { messages: [{ role: 'user', content: 'Hi' }] })).json,
    );
    const invalid = await postJson(`${server.url}/generate`, { inputs: 'x', parameters: { max_new_tokens: 0 } });
    assert.equal(invalid.status, 422);
    assertMatches('ErrorResponse', invalid.json);
    const invalidChat = await postJson(`${server.url}/v1/chat/completions`, { messages: 'no' });
    assert.equal(invalidChat.status, 422);
    assertMatches('OpenAiErrorResponse', invalidChat.json);
    // The 401 body the native routes send (security.test.ts checks the server sends it).
    assertMatches('AuthenticationError', { error: 'Missing API key: this route needs the header `Authorization: Bearer <key>`' });
    assert.equal(ajv.getSchema('openapi#/components/schemas/AuthenticationError')!({ error: 'x', error_type: 'authentication' }), false);
    // And the document can fail: a body of another shape does not match.
    const validate = ajv.getSchema('openapi#/components/schemas/GenerateResponse')!;
    assert.equal(validate({ generated_text: 1 }), false);
  });

  it('/docs renders every route in headless Chromium', async (t) => {
    const chromium = chromiumPath();
    if (!chromium) {
      t.skip('chromium is not installed (apt-get install chromium): the rendered /docs page is not checked');
      return;
    }
    const page = await fetch(`${server.url}/docs`);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal((await fetch(`${server.url}/docs/swagger-ui-bundle.js`)).status, 200);
    assert.equal((await fetch(`${server.url}/docs/not-a-file.js`)).status, 404);
    const profile = mkdtempSync(join(tmpdir(), 'tgi-node-chromium-'));
    try {
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
      ];
      const result = spawnSync(chromium, [...flags, '--virtual-time-budget=20000', '--dump-dom', `${server.url}/docs`], {
        encoding: 'utf8',
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const dom = result.stdout;
      assert.ok(dom.includes('swagger-ui'), `no Swagger UI in the page: ${result.stderr?.slice(0, 500)}`);
      const rendered = new Set([...dom.matchAll(/data-path="([^"]*)"/g)].map((m) => m[1]));
      for (const path of Object.keys(ROUTES))
        assert.ok(rendered.has(path), `${path} is not on the rendered page (rendered: ${[...rendered].join(', ')})`);
      assert.ok(dom.includes('Text Generation Inference'), 'the title is not rendered');
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
