// POST /watermark/detect: text generated with the watermark scores far above chance, the same
// sampling without it does not; bad bodies are 422s; the route needs the API key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { erfc, upperTailProbability } from '../src/watermark/detect.js';

const AUTH = { authorization: 'Bearer wm-key' };

describe('watermark detector', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--api-key', 'wm-key', '--watermark-gamma', '0.5', '--watermark-delta', '2.5']);
  });
  after(() => server.stop());

  const generate = async (watermark: boolean, seed: number) => {
    const r = await postJson(
      `${server.url}/generate`,
      {
        inputs: 'Once upon a time',
        parameters: { max_new_tokens: 160, do_sample: true, seed, watermark, details: true, decoder_input_details: true },
      },
      AUTH,
    );
    assert.equal(r.status, 200, r.text);
    const prompt = r.json.details.prefill.map((t: { id: number }) => t.id);
    return {
      ids: [prompt.at(-1), ...r.json.details.tokens.map((t: { id: number }) => t.id)] as number[],
      text: r.json.generated_text as string,
    };
  };
  const detect = async (body: unknown) => postJson(`${server.url}/watermark/detect`, body, AUTH);

  it('scores watermarked token ids far above chance and unwatermarked ones near it', async () => {
    const marked = await detect({ token_ids: (await generate(true, 7)).ids });
    const plain = await detect({ token_ids: (await generate(false, 7)).ids });
    assert.equal(marked.status, 200, marked.text);
    assert.equal(marked.json.scored_tokens, 160);
    assert.equal(marked.json.gamma, 0.5);
    assert.equal(marked.json.delta, 2.5);
    assert.ok(marked.json.z_score > 4, `watermarked z ${marked.json.z_score}`);
    assert.ok(marked.json.p_value < 1e-4, `watermarked p ${marked.json.p_value}`);
    assert.ok(marked.json.green_fraction > 0.65, `green ${marked.json.green_fraction}`);
    assert.ok(plain.json.z_score < marked.json.z_score - 2, `plain z ${plain.json.z_score}`);
    assert.ok(Math.abs(plain.json.green_fraction - 0.5) < 0.2, `plain green ${plain.json.green_fraction}`);
    assert.equal(marked.json.green_tokens, Math.round(marked.json.green_fraction * 160));
  });

  it('takes text too, tokenized with the model vocabulary', async () => {
    const { text } = await generate(true, 11);
    const r = await detect({ inputs: text });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.scored_tokens > 100);
    assert.ok(r.json.z_score > 3, `z ${r.json.z_score}`);
  });

  it('answers bad bodies with 422s naming the problem, and needs the API key', async () => {
    for (const [body, pattern] of [
      [{}, /exactly one of `inputs`/],
      [{ inputs: 'x', token_ids: [1] }, /exactly one of `inputs`/],
      [{ token_ids: [1, 99999] }, /`token_ids` holds 99999, outside the vocabulary of 512 tokens/],
      [{ token_ids: [1.5] }, /token_ids/],
      [{ token_ids: 'abc' }, /token_ids/],
    ] as const) {
      const r = await detect(body);
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.match(r.json.error, pattern);
      assert.equal(r.json.error_type, 'validation');
    }
    const empty = await detect({ token_ids: [] });
    assert.deepEqual([empty.status, empty.json.scored_tokens, empty.json.p_value], [200, 0, 1]);
    const denied = await postJson(`${server.url}/watermark/detect`, { token_ids: [1, 2] });
    assert.equal(denied.status, 401);
  });

  it('computes the normal tail to a relative error under 1e-6', () => {
    // Reference values of P(Z >= z).
    for (const [z, p] of [
      [0, 0.5],
      [1, 0.15865525393145707],
      [3, 0.0013498980316301],
      [6, 9.865876450376946e-10],
      [-2, 0.9772498680518208],
    ]) {
      assert.ok(Math.abs(upperTailProbability(z) - p) / p < 1e-6, `z ${z}: ${upperTailProbability(z)} vs ${p}`);
    }
    assert.ok(Math.abs(erfc(0) - 1) < 1e-6);
    assert.ok(Math.abs(erfc(-3) - (2 - erfc(3))) < 1e-12);
  });
});
