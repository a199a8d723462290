// Every validation rule of TGI and this server's errors for malformed bodies, on the
// real server: status and exact message, for /generate (JSON) and /generate_stream (in-band).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

let MALFORMED_SCHEMA_MESSAGE = '';
try {
  JSON.parse('{"type":');
} catch (error) {
  MALFORMED_SCHEMA_MESSAGE = `grammar is not valid: ${(error as Error).message}`;
}

const LONG_INPUT = Array(511).fill('a').join(' ');
/** 1,001 tokens: beyond max_total_tokens (512) on its own. */
const LONGER_INPUT = Array(1000).fill('a').join(' ');

const RULES: { name: string; inputs?: string; parameters: Record<string, unknown>; message: string }[] = [
  { name: 'best_of above the limit', parameters: { best_of: 3, do_sample: true }, message: '`best_of` must be > 0 and <= 2. Given: 3' },
  { name: 'best_of without sampling', parameters: { best_of: 2 }, message: 'you must use sampling when `best_of` is > 1' },
  { name: 'temperature 0', parameters: { temperature: 0 }, message: '`temperature` must be strictly positive' },
  { name: 'negative temperature', parameters: { temperature: -1 }, message: '`temperature` must be strictly positive' },
  { name: 'repetition_penalty 0', parameters: { repetition_penalty: 0 }, message: '`repetition_penalty` must be strictly positive' },
  { name: 'frequency_penalty above 2', parameters: { frequency_penalty: 2.5 }, message: '`frequency_penalty` must be >= -2.0 and <= 2.0' },
  {
    name: 'frequency_penalty below -2',
    parameters: { frequency_penalty: -2.1 },
    message: '`frequency_penalty` must be >= -2.0 and <= 2.0',
  },
  { name: 'top_p 1.0', parameters: { top_p: 1.0 }, message: '`top_p` must be > 0.0 and < 1.0' },
  { name: 'top_p 0', parameters: { top_p: 0 }, message: '`top_p` must be > 0.0 and < 1.0' },
  { name: 'typical_p 1.0', parameters: { typical_p: 1.0 }, message: '`typical_p` must be > 0.0 and < 1.0' },
  { name: 'top_k 0', parameters: { top_k: 0 }, message: '`top_k` must be strictly positive' },
  { name: 'negative top_k', parameters: { top_k: -3 }, message: '`top_k` must be strictly positive' },
  { name: 'max_new_tokens 0', parameters: { max_new_tokens: 0 }, message: '`max_new_tokens` must be strictly positive' },
  {
    name: 'too many stop sequences',
    parameters: { stop: ['a', 'b', 'c', 'd', 'e'] },
    message: '`stop` supports up to 4 stop sequences. Given: 5',
  },
  { name: 'seed with best_of', parameters: { best_of: 2, do_sample: true, seed: 1 }, message: '`seed` must not be set when `best_of` > 1' },
  { name: 'top_n_tokens above the limit', parameters: { top_n_tokens: 6 }, message: '`top_n_tokens` must be >= 0 and <= 5. Given: 6' },
  { name: 'empty inputs', inputs: '', parameters: {}, message: '`inputs` cannot be empty' },
  { name: 'truncate 0', parameters: { truncate: 0 }, message: '`truncate` must be strictly positive and less than 511. Given: 0' },
  {
    name: 'truncate above max_input_tokens',
    parameters: { truncate: 600 },
    message: '`truncate` must be strictly positive and less than 511. Given: 600',
  },
  {
    name: 'inputs + max_new_tokens above max_total_tokens',
    inputs: LONG_INPUT,
    parameters: { max_new_tokens: 10 },
    message: '`inputs` tokens + `max_new_tokens` must be <= 512. Given: 512 `inputs` tokens and 10 `max_new_tokens`',
  },
  {
    name: 'inputs above max_input_tokens',
    inputs: LONG_INPUT,
    parameters: {},
    message: '`inputs` must have less than 511 tokens. Given: 512',
  },
  // TGI says "Given: 1001 `inputs` tokens and 0 `max_new_tokens`" here, though none were asked for.
  {
    name: 'inputs above max_total_tokens without max_new_tokens',
    inputs: LONGER_INPUT,
    parameters: {},
    message: '`inputs` must have less than 511 tokens. Given: 1001',
  },
  {
    name: 'JSON grammar with a keyword it cannot enforce',
    parameters: { grammar: { type: 'json', value: { type: 'object', unevaluatedProperties: false } } },
    message: 'grammar is not valid: keyword unevaluatedProperties is not supported (at /unevaluatedProperties)',
  },
  {
    name: 'JSON grammar as a string that is not JSON',
    parameters: { grammar: { type: 'json', value: '{"type":' } },
    message: MALFORMED_SCHEMA_MESSAGE,
  },
  {
    name: 'regex grammar with a lookahead',
    parameters: { grammar: { type: 'regex', value: 'a(?=b)' } },
    message: 'grammar is not valid: lookahead (?= at position 1 is not supported',
  },
  {
    name: 'regex grammar that is not a string',
    parameters: { grammar: { type: 'regex', value: 42 } },
    message: 'grammar is not valid: a regex grammar takes its pattern as a string',
  },
  {
    name: 'adapter_id',
    parameters: { adapter_id: 'my-lora' },
    message: 'adapter_id "my-lora" is not available: this server has no LoRA adapters loaded (start it with --lora-adapters)',
  },
];

describe('validation rules', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  for (const rule of RULES) {
    it(`/generate: ${rule.name} -> 422`, async () => {
      const r = await postJson(`${server.url}/generate`, { inputs: rule.inputs ?? 'Once upon a time', parameters: rule.parameters });
      assert.equal(r.status, 422, r.text);
      assert.deepEqual(r.json, { error: `Input validation error: ${rule.message}`, error_type: 'validation' });
    });
  }

  for (const rule of RULES.filter((r) => !('best_of' in r.parameters))) {
    it(`/generate_stream: ${rule.name} -> in-band error`, async () => {
      const response = await stream(`${server.url}/generate_stream`, {
        inputs: rule.inputs ?? 'Once upon a time',
        parameters: rule.parameters,
      });
      assert.equal(response.status, 200);
      const events = await readSse(response);
      assert.deepEqual(
        events.map((e) => e.json),
        [{ error: `Input validation error: ${rule.message}`, error_type: 'validation' }],
      );
    });
  }

  it('the 512-token input used above really is 512 tokens', async () => {
    const r = await postJson(`${server.url}/tokenize`, { inputs: LONG_INPUT });
    assert.equal(r.json.length, 512);
  });

  it('truncate keeps the last tokens', async () => {
    const r = await postJson(`${server.url}/generate`, {
      inputs: LONG_INPUT,
      parameters: { truncate: 100, max_new_tokens: 2, decoder_input_details: true },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('x-prompt-tokens'), '100');
    assert.equal(r.json.details.prefill.length, 100);
  });

  it('streaming pre-checks: best_of and decoder_input_details', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ best_of: 2, do_sample: true }, '`best_of` != 1 is not supported when streaming tokens'],
      [{ best_of: 0 }, '`best_of` != 1 is not supported when streaming tokens'],
      [{ decoder_input_details: true }, '`decoder_input_details` == true is not supported when streaming tokens'],
    ];
    for (const [parameters, message] of cases) {
      const events = await readSse(await stream(`${server.url}/generate_stream`, { inputs: 'Hi', parameters }));
      assert.deepEqual(
        events.map((e) => e.json),
        [{ error: `Input validation error: ${message}`, error_type: 'validation' }],
      );
    }
  });

  it('best_of 0 means one sequence on /generate', async () => {
    const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { best_of: 0, max_new_tokens: 3 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.generated_text, ', there was');
  });
});

describe('malformed requests', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--payload-limit', '2000']);
  });
  after(() => server.stop());

  const send = (path: string, body: string, contentType?: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

  for (const path of ['/generate', '/generate_stream', '/', '/tokenize']) {
    it(`${path}: invalid JSON -> 400`, async () => {
      const r = await send(path, '{"inputs": "x",', 'application/json');
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.equal(body.error_type, 'validation');
      assert.match(body.error, /^Failed to parse the request body as JSON: /);
    });

    it(`${path}: wrong content type -> 415`, async () => {
      for (const r of [await send(path, '{"inputs":"x"}', 'text/plain'), await send(path, '{"inputs":"x"}')]) {
        assert.equal(r.status, 415);
        assert.deepEqual(await r.json(), { error: 'Expected request with `Content-Type: application/json`', error_type: 'validation' });
      }
    });

    it(`${path}: body over --payload-limit -> 413`, async () => {
      const r = await send(path, JSON.stringify({ inputs: 'x'.repeat(5000) }), 'application/json');
      assert.equal(r.status, 413);
      assert.deepEqual(await r.json(), { error: 'Failed to buffer the request body: length limit exceeded', error_type: 'validation' });
    });
  }

  for (const path of ['/v1/chat/completions', '/v1/completions', '/chat_tokenize', '/invocations']) {
    const openai = path.startsWith('/v1/');
    const errorOf = (body: any) => (openai ? body.error.message : body.error);
    it(`${path}: invalid JSON 400, wrong content type 415, too large 413, in the route's error shape`, async () => {
      const cases: [Response, number, RegExp][] = [
        [await send(path, '{"messages": [', 'application/json'), 400, /^Failed to parse the request body as JSON: /],
        [await send(path, '{"prompt":"x"}', 'text/plain'), 415, /Content-Type: application\/json/],
        [await send(path, JSON.stringify({ prompt: 'x'.repeat(5000) }), 'application/json'), 413, /length limit exceeded/],
        [
          await send(path, JSON.stringify({ messages: 5, prompt: 5, inputs: 5 }), 'application/json'),
          422,
          /^Failed to deserialize the JSON body/,
        ],
      ];
      for (const [response, status, message] of cases) {
        assert.equal(response.status, status);
        const body = await response.json();
        if (openai) assert.equal(body.error.type, 'invalid_request_error');
        else assert.equal(body.error_type, 'validation');
        assert.match(errorOf(body), message);
      }
    });
  }

  const SHAPES: [string, unknown, RegExp][] = [
    ['missing inputs', { parameters: {} }, /inputs/],
    ['inputs of the wrong type', { inputs: 5 }, /inputs/],
    ['null inputs', { inputs: null }, /inputs/],
    ['parameters not an object', { inputs: 'x', parameters: 'fast' }, /parameters/],
    ['top_k a string', { inputs: 'x', parameters: { top_k: 'ten' } }, /parameters\.top_k/],
    ['fractional max_new_tokens', { inputs: 'x', parameters: { max_new_tokens: 1.5 } }, /parameters\.max_new_tokens/],
    ['negative max_new_tokens', { inputs: 'x', parameters: { max_new_tokens: -1 } }, /parameters\.max_new_tokens/],
    ['negative seed', { inputs: 'x', parameters: { seed: -1 } }, /parameters\.seed/],
    ['null stop', { inputs: 'x', parameters: { stop: null } }, /parameters\.stop/],
    ['do_sample not a boolean', { inputs: 'x', parameters: { do_sample: 'yes' } }, /parameters\.do_sample/],
    ['unknown grammar type', { inputs: 'x', parameters: { grammar: { type: 'xml', value: '' } } }, /parameters\.grammar\.type/],
    ['a JSON array', [1, 2], /expected object/i],
  ];
  for (const [name, body, pattern] of SHAPES) {
    it(`schema mismatch (${name}) -> 422 with the field named`, async () => {
      for (const path of ['/generate', '/generate_stream']) {
        const r = await postJson(`${server.url}${path}`, body);
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.error_type, 'validation');
        assert.match(r.json.error, /^Failed to deserialize the JSON body into the target type: /);
        assert.match(r.json.error, pattern);
      }
    });
  }

  it('unknown fields are ignored', async () => {
    const r = await postJson(`${server.url}/generate`, {
      inputs: 'Once upon a time',
      extra: 1,
      parameters: { max_new_tokens: 2, whatever: true },
    });
    assert.equal(r.status, 200);
  });

  it('unknown path -> 404, wrong method -> 405 with Allow, both with the JSON error of the route family', async () => {
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: 'No route GET /nope: GET /docs lists the routes of this server',
      error_type: 'not_found',
    });
    const wrongMethod = await fetch(`${server.url}/generate`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.deepEqual(await wrongMethod.json(), {
      error: 'Method GET is not allowed on /generate (allowed: POST)',
      error_type: 'method_not_allowed',
    });
    const deleted = await fetch(`${server.url}/health`, { method: 'DELETE' });
    assert.equal(deleted.status, 405);
    assert.equal(deleted.headers.get('allow'), 'GET, HEAD');
    // Under /v1/: OpenAI error objects, as the openai client reads them.
    const openAiMissing = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(openAiMissing.status, 404);
    assert.deepEqual(await openAiMissing.json(), {
      error: {
        message: 'No route POST /v1/embeddings: GET /docs lists the routes of this server',
        type: 'not_found_error',
        param: null,
        code: 'not_found',
      },
    });
    const openAiMethod = await fetch(`${server.url}/v1/chat/completions`);
    assert.equal(openAiMethod.status, 405);
    const body = (await openAiMethod.json()) as any;
    assert.equal(body.error.code, 'method_not_allowed');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /^Method GET is not allowed on \/v1\/chat\/completions \(allowed: POST\)$/);
    const modelMethod = await fetch(`${server.url}/v1/models/anything`, { method: 'POST' });
    assert.equal(modelMethod.status, 405);
    assert.equal(modelMethod.headers.get('allow'), 'GET, HEAD');
  });

  it('the server is still healthy after all of this', async () => {
    const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3 } });
    assert.equal(r.json.generated_text, ', there was');
  });
});

describe('limits given on the command line', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-best-of', '1', '--max-stop-sequences', '1', '--max-top-n-tokens', '0', '--disable-grammar-support']);
  });
  after(() => server.stop());

  const cases: [Record<string, unknown>, string][] = [
    [{ best_of: 2, do_sample: true }, '`best_of` != 1 is not allowed for this endpoint'],
    [{ stop: ['a', 'b'] }, '`stop` supports up to 1 stop sequences. Given: 2'],
    [{ top_n_tokens: 1 }, '`top_n_tokens` must be >= 0 and <= 0. Given: 1'],
    [{ grammar: { type: 'json', value: { properties: {} } } }, 'grammar is not supported'],
  ];
  for (const [parameters, message] of cases) {
    it(`rejects ${JSON.stringify(parameters)}`, async () => {
      const r = await postJson(`${server.url}/generate`, { inputs: 'Hello', parameters });
      assert.equal(r.status, 422);
      assert.equal(r.json.error, `Input validation error: ${message}`);
    });
  }
});
