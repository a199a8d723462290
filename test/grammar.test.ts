// Regex grammars on the native routes, on stories260K's real weights: every output that ends by
// EOS matches the whole pattern, logprobs are those of the constrained distribution, streaming and
// batching change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { quantizedStories } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

const regex = (value: string) => ({ type: 'regex', value });

describe('regex grammars', () => {
  let server: RunningServer;
  before(async () => {
    // Without the response cache: a request repeated among others must be generated among them.
    server = await startServer(['--max-batch-size', '16', '--response-cache-size', '0'], {}, await quantizedStories());
  });
  after(() => server.stop());

  const generate = (parameters: Record<string, unknown>, inputs = 'Once upon a time') =>
    postJson(`${server.url}/generate`, { inputs, parameters });

  it('the greedy story bent to a pattern, ending by EOS once the pattern is complete', async () => {
    const r = await generate({ max_new_tokens: 40, details: true, grammar: regex(', there was a [a-z]+ [a-z]+\\.') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.generated_text, ', there was a little girl.');
    assert.equal(r.json.details.finish_reason, 'eos_token');
  });

  it('outputs match patterns of digits, alternatives and classes', async () => {
    const patterns = [
      '[0-9]{3}-[0-9]{4}',
      '(yes|no|maybe)',
      '[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8})?',
      '\\{"name": "[a-z]{1,10}"\\}',
      '[αβγ]{2}😀',
    ];
    for (const pattern of patterns) {
      for (const parameters of [{}, { do_sample: true, seed: 3, temperature: 1.5 }]) {
        const r = await generate({ max_new_tokens: 60, details: true, grammar: regex(pattern), ...parameters });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.details.finish_reason, 'eos_token', `${pattern}: ${r.json.generated_text}`);
        assert.match(r.json.generated_text, new RegExp(`^(?:${pattern})$`, 'u'), pattern);
      }
    }
  });

  it('logprobs and top tokens are those of the constrained distribution', async () => {
    const r = await generate({ max_new_tokens: 10, details: true, top_n_tokens: 5, grammar: regex('(yes|no)') });
    assert.equal(r.status, 200, r.text);
    for (const [i, token] of r.json.details.tokens.entries()) {
      assert.ok(Number.isFinite(token.logprob) && token.logprob <= 0);
      const tops = r.json.details.top_tokens[i] as { text: string; logprob: number }[];
      const mass = tops.reduce((sum, t) => sum + Math.exp(t.logprob), 0);
      assert.ok(mass <= 1.0001, `mass ${mass}`);
      if (i === 0)
        for (const t of tops) assert.ok(/^(y|ye|yes|n|no)$/.test(t.text.trim()) || t.text === '', `top token ${JSON.stringify(t.text)}`);
    }
  });

  it('streamed text equals the non-streamed text, and best_of works', async () => {
    const parameters = { max_new_tokens: 30, grammar: regex('[a-z]+( [a-z]+){2,4}\\.') };
    const whole = await generate(parameters);
    const events = await readSse(await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters }));
    const final = events[events.length - 1].json;
    assert.equal(final.generated_text, whole.json.generated_text);
    assert.equal(
      events
        .filter((e) => !e.json.token.special)
        .map((e) => e.json.token.text)
        .join(''),
      whole.json.generated_text,
    );
    const bestOf = await generate({ ...parameters, best_of: 2, do_sample: true, details: true });
    assert.equal(bestOf.status, 200, bestOf.text);
    assert.match(bestOf.json.generated_text, /^[a-z]+( [a-z]+){2,4}\.$/);
    assert.match(bestOf.json.details.best_of_sequences[0].generated_text, /^[a-z]+( [a-z]+){2,4}\.$/);
  });

  it('a grammar never breaks greedy equality between a request alone and among 15 others', async () => {
    const parameters = { max_new_tokens: 40, grammar: regex('[a-z ,]{10,60}\\.') };
    const alone = await generate(parameters, 'The little dog');
    const others = ['Once upon a time', 'Lily and Tom went', 'One day, a big bear', 'The sun was', 'Ben had a red'];
    const crowd = await Promise.all([
      generate(parameters, 'The little dog'),
      ...Array.from({ length: 15 }, (_, i) =>
        generate({ max_new_tokens: 40, ...(i % 2 ? { grammar: regex('[a-z]+( [a-z]+)*') } : {}) }, others[i % others.length]),
      ),
    ]);
    assert.equal(crowd[0].json.generated_text, alone.json.generated_text);
    assert.match(alone.json.generated_text, /^[a-z ,]{10,60}\.$/);
  });

  it("chat response_format of type regex (TGI's form), through the openai client, streamed and not", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const request = {
      model: 'tgi',
      messages: [{ role: 'user' as const, content: 'How old is Tom?' }],
      max_tokens: 40,
      temperature: 0,
      response_format: { type: 'regex', value: 'Tom is [0-9]{1,2} years old\\.' } as unknown as { type: 'text' },
    };
    const completion = await client.chat.completions.create(request);
    const content = completion.choices[0].message.content ?? '';
    assert.match(content, /^Tom is [0-9]{1,2} years old\.$/);
    assert.equal(completion.choices[0].finish_reason, 'stop');
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
      streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, content);
    const json = await postJson(`${server.url}/v1/chat/completions`, {
      ...request,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', unevaluatedProperties: false } } },
    });
    assert.equal(json.status, 422);
    assert.equal(json.json.error.param, 'response_format');
  });

  it('chat with n, a stop sequence and logprobs under a grammar: every choice matches, tops are allowed tokens', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const completion = await client.chat.completions.create({
      model: 'tgi',
      messages: [{ role: 'user', content: 'Say it.' }],
      max_tokens: 40,
      n: 3,
      seed: 5,
      temperature: 1.2,
      logprobs: true,
      top_logprobs: 4,
      stop: ['!'],
      response_format: { type: 'regex', value: '(yes|no), [a-z]{2,6}[.!]' } as unknown as { type: 'text' },
    });
    assert.equal(completion.choices.length, 3);
    for (const choice of completion.choices) {
      const content = choice.message.content ?? '';
      // A stop sequence ends the text early (and is left out); the grammar's own end is EOS.
      if (choice.finish_reason === 'stop' && !content.endsWith('.')) assert.match(content, /^(yes|no), [a-z]{2,6}$/);
      else assert.match(content, /^(yes|no), [a-z]{2,6}\.$/);
      const first = choice.logprobs!.content![0];
      for (const top of first.top_logprobs) assert.ok(/^(y|ye|yes|n|no)$/.test(top.token), `top token ${JSON.stringify(top.token)}`);
    }
  });

  it('a schema too costly to compile is a 422 naming the work limit, and the server answers meanwhile', async () => {
    // About 1.9 million compile steps, past the limit of 1 million.
    const costly = {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 12000 }, (_, i) => [`key${i}`, { type: 'integer', minimum: i, maximum: 7 * i + 3 }]),
      ),
    };
    const order: string[] = [];
    const refused = generate({ max_new_tokens: 4, grammar: { type: 'json', value: costly } }).then((r) => (order.push('compile'), r));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const served = await generate({ max_new_tokens: 4 }).then((r) => (order.push('generate'), r));
    const r = await refused;
    assert.equal(r.status, 422, r.text);
    assert.match(
      r.json.error,
      /grammar is not valid: compiling the grammar needs more than 1000000 steps \(the compile work limit\); simplify it/,
    );
    assert.equal(served.status, 200);
    assert.deepEqual(order, ['generate', 'compile'], 'a plain request waited for the compile');
    const after = await generate({ max_new_tokens: 8, grammar: regex('[a-z]{3}') });
    assert.match(after.json.generated_text, /^[a-z]{3}$/);
  });

  it('a pattern outside the supported subset is a 422 before anything runs', async () => {
    const r = await generate({ grammar: regex('(a)\\1') });
    assert.equal(r.status, 422);
    assert.match(r.json.error, /^Input validation error: grammar is not valid: /);
  });
});
