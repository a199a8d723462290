// /generate, /generate_stream and POST / against the real engine on stories260K.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scoreWatermark } from '../src/sampling/watermark.js';
import { GREEDY_CONTINUATION, quantizedStories } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

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
/** Every request generated: these tests repeat requests to compare what the engine gives (the response cache has its own tests). */
const NO_RESPONSE_CACHE = ['--response-cache-size', '0'];

describe('generation', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-batch-size', '16', ...NO_RESPONSE_CACHE]);
  });
  after(() => server.stop());

  const generate = (inputs: string, parameters?: Record<string, unknown>) =>
    postJson(`${server.url}/generate`, parameters === undefined ? { inputs } : { inputs, parameters });

  it('greedy /generate continues the story exactly', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 30 });
    assert.equal(r.status, 200);
    assert.ok(r.json.generated_text.startsWith(GREEDY_CONTINUATION), r.json.generated_text);
    assert.equal(r.json.details, undefined);
  });

  it('reports details: tokens, finite logprobs, greedy seed null, finish reason length', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 12, details: true });
    const d = r.json.details;
    assert.equal(d.finish_reason, 'length');
    assert.equal(d.generated_tokens, 12);
    assert.equal(d.seed, null);
    assert.deepEqual(d.prefill, []);
    assert.equal(d.tokens.length, 12);
    assert.equal(d.tokens.map((t: { text: string }) => t.text).join(''), r.json.generated_text);
    for (const t of d.tokens) {
      assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0, `logprob ${t.logprob}`);
      assert.equal(t.special, false);
    }
    assert.equal(r.headers.get('x-generated-tokens'), '12');
    assert.equal(r.headers.get('x-prompt-tokens'), '5');
    assert.equal(r.headers.get('x-compute-characters'), '16');
    for (const h of [
      'x-compute-type',
      'x-compute-time',
      'x-total-time',
      'x-validation-time',
      'x-queue-time',
      'x-inference-time',
      'x-time-per-token',
    ]) {
      assert.ok(r.headers.get(h) !== null, `missing header ${h}`);
    }
    assert.match(r.headers.get('x-compute-time')!, /^\d+\.\d+$/);
  });

  it('top_n_tokens are sorted by logprob and include the chosen greedy token first', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 8, details: true, top_n_tokens: 3 });
    const { tokens, top_tokens } = r.json.details;
    assert.equal(top_tokens.length, 8);
    top_tokens.forEach((step: { id: number; logprob: number }[], i: number) => {
      assert.ok(step.length >= 3);
      for (let k = 1; k < step.length; k++) assert.ok(step[k - 1].logprob >= step[k].logprob);
      assert.equal(step[0].id, tokens[i].id);
      assert.ok(step.every((t) => Number.isFinite(t.logprob)));
    });
  });

  it('stream events concatenate to the same text; the last carries generated_text and details', async () => {
    const events = await readSse(
      await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 30, details: true } }),
    );
    assert.equal(events.length, 30);
    events.forEach((e, i) => assert.equal(e.json.index, i + 1));
    const text = events.map((e) => e.json.token.text).join('');
    assert.ok(text.startsWith(GREEDY_CONTINUATION));
    for (const e of events.slice(0, -1)) {
      assert.equal(e.json.generated_text, null);
      assert.equal(e.json.details, null);
    }
    const last = events.at(-1)!.json;
    assert.equal(last.generated_text, text);
    assert.deepEqual(last.details, { finish_reason: 'length', generated_tokens: 30, seed: null, input_length: 5 });
    for (const e of events) assert.ok(Number.isFinite(e.json.token.logprob));
  });

  it('stream has TGI headers and no [DONE]', async () => {
    const response = await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3 } });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    assert.equal(response.headers.get('x-compute-characters'), '16');
    const body = await response.text();
    assert.ok(!body.includes('[DONE]'));
    assert.match(body, /^data: \{/);
    assert.ok(body.endsWith('}\n\n'));
  });

  it('stop sequences end the text with finish_reason stop_sequence, the stop text kept', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 50, stop: [' Lily'], details: true });
    assert.equal(r.json.generated_text, ', there was a little girl named Lily');
    assert.equal(r.json.details.finish_reason, 'stop_sequence');
  });

  it('return_full_text prepends the prompt', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 3, return_full_text: true });
    assert.equal(r.json.generated_text, 'Once upon a time, there was');
  });

  it('POST / answers an array, defaults return_full_text to true for a local model (no pipeline tag), and streams when asked', async () => {
    const r = await postJson(`${server.url}/`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3 } });
    assert.deepEqual(r.json, [{ generated_text: 'Once upon a time, there was' }]);
    const events = await readSse(
      await stream(`${server.url}/`, { inputs: 'Once upon a time', stream: true, parameters: { max_new_tokens: 3 } }),
    );
    assert.equal(events.length, 3);
    assert.equal(events[2].json.generated_text, 'Once upon a time, there was');
  });

  it('decoder_input_details returns prefill logprobs: first null, the rest finite', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 2, decoder_input_details: true });
    const prefill = r.json.details.prefill;
    assert.deepEqual(
      prefill.map((t: { id: number }) => t.id),
      [1, 403, 407, 261, 378],
    );
    assert.equal(prefill[0].logprob, null);
    for (const t of prefill.slice(1)) assert.ok(Number.isFinite(t.logprob) && t.logprob < 0);
    assert.equal(prefill[1].text, ' Once');
  });

  it('absent parameters samples (do_sample true) and reports the seed', async () => {
    const r = await postJson(`${server.url}/generate`, {
      inputs: 'Once upon a time',
      parameters: { details: true, max_new_tokens: 5, do_sample: true },
    });
    assert.equal(typeof r.json.details.seed, 'number');
    assert.ok(Number.isSafeInteger(r.json.details.seed));
  });

  it('a seeded sampled request is reproducible', async () => {
    const params = { max_new_tokens: 40, do_sample: true, seed: 1234, temperature: 0.9, top_k: 40, top_p: 0.95, details: true };
    const a = await generate('The little dog', params);
    const b = await generate('The little dog', params);
    assert.equal(a.json.generated_text, b.json.generated_text);
    assert.equal(a.json.details.seed, 1234);
    const c = await generate('The little dog', { ...params, seed: 99 });
    assert.notEqual(c.json.generated_text, a.json.generated_text);
  });

  it('16 concurrent greedy requests return exactly what each returns alone', async () => {
    const params = { max_new_tokens: 60 };
    const alone: string[] = [];
    for (let i = 0; i < 16; i++) alone.push((await generate(PROMPTS[i % 8], params)).json.generated_text);
    const together = await Promise.all(Array.from({ length: 16 }, (_, i) => generate(PROMPTS[i % 8], params)));
    assert.deepEqual(
      together.map((r) => r.json.generated_text),
      alone,
    );
  });

  it('best_of returns the best of n sampled sequences and the others in best_of_sequences', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 10, best_of: 2, do_sample: true, details: true });
    assert.equal(r.status, 200, r.text);
    const others = r.json.details.best_of_sequences;
    assert.equal(others.length, 1);
    const mean = (tokens: { logprob: number }[]) => tokens.reduce((s, t) => s + t.logprob, 0) / tokens.length;
    assert.ok(mean(r.json.details.tokens) >= mean(others[0].tokens));
    assert.equal(typeof others[0].seed, 'number');
  });

  it('repetition and frequency penalties and typical_p change the greedy output', async () => {
    const plain = (await generate('Once upon a time', { max_new_tokens: 60 })).json.generated_text;
    const penalised = (await generate('Once upon a time', { max_new_tokens: 60, repetition_penalty: 3 })).json.generated_text;
    assert.notEqual(penalised, plain);
    // TGI's frequency penalty is divided by the sequence length: it shifts logprobs more than choices.
    const logprobs = async (frequency_penalty: number) =>
      (await generate('Once upon a time', { max_new_tokens: 20, frequency_penalty, details: true })).json.details.tokens.map(
        (t: { logprob: number }) => t.logprob,
      );
    assert.notDeepEqual(await logprobs(2), await logprobs(0));
    const typical = await generate('Once upon a time', { max_new_tokens: 20, typical_p: 0.5, seed: 3, details: true });
    assert.equal(typical.status, 200);
    assert.equal(typical.json.details.seed, 3);
  });

  it('top_k=1 makes every logprob 0 (logprobs come from the warped distribution)', async () => {
    const r = await generate('Once upon a time', { max_new_tokens: 5, top_k: 1, details: true });
    for (const t of r.json.details.tokens) assert.equal(t.logprob, 0);
    assert.ok(r.json.generated_text.startsWith(', there was'));
  });

  it('watermarked generation is detected by the green-list z-score; plain text is not', async () => {
    const ids = async (watermark: boolean) => {
      const r = await generate('Once upon a time', { max_new_tokens: 100, watermark, do_sample: true, seed: 5, details: true });
      return [378, ...r.json.details.tokens.map((t: { id: number }) => t.id)];
    };
    const marked = scoreWatermark(await ids(true), 512, { gamma: 0.5 });
    const plain = scoreWatermark(await ids(false), 512, { gamma: 0.5 });
    assert.ok(marked.zScore > 4, `watermarked z=${marked.zScore}`);
    assert.ok(plain.zScore < marked.zScore - 2, `plain z=${plain.zScore}`);
  });
});

describe('reproducibility under load (stories260K quantized to Q8_0)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-batch-size', '16', ...NO_RESPONSE_CACHE], {}, await quantizedStories());
  });
  after(() => server.stop());

  const generate = (inputs: string, parameters: Record<string, unknown>) => postJson(`${server.url}/generate`, { inputs, parameters });

  it('a seeded sampled request gives the same output alone and beside 15 others', async () => {
    const params = (i: number) => ({ max_new_tokens: 80, do_sample: true, seed: 1000 + i, temperature: 1.2, top_p: 0.9 });
    const alone: string[] = [];
    for (let i = 0; i < 16; i++) alone.push((await generate(PROMPTS[i % 8], params(i))).json.generated_text);
    for (let round = 0; round < 2; round++) {
      const together = await Promise.all(Array.from({ length: 16 }, (_, i) => generate(PROMPTS[i % 8], params(i))));
      assert.deepEqual(
        together.map((r) => r.json.generated_text),
        alone,
      );
    }
    assert.equal(new Set(alone).size, 16);
  });

  it('greedy output is the same alone, beside others, and staggered', async () => {
    const alone = (await generate('Once upon a time', { max_new_tokens: 100 })).json.generated_text;
    const staggered = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 7));
        return (await generate(i % 2 ? 'Once upon a time' : PROMPTS[i], { max_new_tokens: 100 })).json.generated_text;
      }),
    );
    for (let i = 1; i < 8; i += 2) assert.equal(staggered[i], alone);
  });
});
