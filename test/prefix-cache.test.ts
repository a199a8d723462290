// Prompt prefix reuse: cells of earlier or running requests serve new prompts that share a prefix,
// with outputs identical to recomputing them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { quantizedStories, SHARED } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { metricValue, postJson } from './helpers/http.js';
import { toolTestModel } from './helpers/tool-model.js';
import { TILED_QUERY_TOKENS } from '../src/engine/types.js';

const SYSTEM = Array.from({ length: 13 }, (_, i) => `Rule ${i}: be kind to the little dog.`).join(' ');
const QUESTIONS = [
  'Lily asked',
  'Tom said',
  'The bird sang',
  'Mom smiled',
  'Ben ran home',
  'The cat slept',
  'Sue found a ball',
  'The sun was hot',
];

describe('prefix caching', () => {
  let cached: RunningServer;
  let plain: RunningServer;
  before(async () => {
    const model = await quantizedStories();
    // Without the response cache, which would answer a repeated request without computing it at all.
    const noResponseCache = ['--response-cache-size', '0'];
    cached = await startServer(['--max-batch-size', '8', ...noResponseCache], {}, model);
    plain = await startServer(['--max-batch-size', '8', '--disable-prefix-caching', ...noResponseCache], {}, model);
  });
  after(async () => {
    await cached.stop();
    await plain.stop();
  });

  const tokens = async (url: string, inputs: string) => (await postJson(`${url}/tokenize`, { inputs })).json.length as number;

  it('OpenAI usage reports the prompt tokens reused as prompt_tokens_details.cached_tokens', async () => {
    const client = new OpenAI({ baseURL: `${cached.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-use-cache': 'false' } });
    const reused = () => metricValue(cached.url, 'tgi_prefix_cache_reused_tokens');
    const messages = [{ role: 'user' as const, content: `${SYSTEM.replace(/Rule/g, 'Verse')} ${QUESTIONS[5]}` }];
    const chat = async () => {
      const before = await reused();
      const r = await client.chat.completions.create({ model: 'tgi', messages, max_tokens: 4, temperature: 0 });
      return { usage: r.usage!, reused: (await reused()) - before };
    };
    const first = await chat();
    assert.equal(first.usage.prompt_tokens_details?.cached_tokens, first.reused);
    const second = await chat();
    assert.ok(second.reused > 200, `reused ${second.reused}`);
    // All of the prompt but its last token, whose logits the first generated token needs.
    assert.equal(second.reused, second.usage.prompt_tokens - 1);
    assert.equal(second.usage.prompt_tokens_details?.cached_tokens, second.reused);
    assert.equal(second.usage.prompt_tokens, first.usage.prompt_tokens);

    // The usage chunk of a stream.
    let before = await reused();
    const stream = await client.chat.completions.create({
      model: 'tgi',
      messages,
      max_tokens: 4,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, (await reused()) - before);
    assert.equal(usage?.prompt_tokens_details?.cached_tokens, second.reused);

    // Completions: a new prompt computes all of it; a list of prompts adds each one's reuse.
    const fresh = `${SYSTEM.replace(/Rule/g, 'Line')} ${QUESTIONS[6]}`;
    const freshTokens = await tokens(cached.url, fresh);
    const once = await client.completions.create({ model: 'tgi', prompt: fresh, max_tokens: 3, temperature: 0 });
    assert.equal(once.usage?.prompt_tokens, freshTokens);
    before = await reused();
    const both = await client.completions.create({ model: 'tgi', prompt: [fresh, messages[0].content], max_tokens: 3, temperature: 0 });
    const reusedBoth = (await reused()) - before;
    assert.ok(reusedBoth >= freshTokens - 1, `reused ${reusedBoth}`);
    assert.equal(both.usage?.prompt_tokens_details?.cached_tokens, reusedBoth);
    before = await reused();
    const streamed = await client.completions.create({
      model: 'tgi',
      prompt: [fresh, messages[0].content],
      max_tokens: 3,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let completionUsage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of streamed) if (chunk.usage) completionUsage = chunk.usage;
    assert.equal(completionUsage?.prompt_tokens_details?.cached_tokens, (await reused()) - before);
    // Both prompts were seen by now: all of each but its last token.
    assert.equal(completionUsage?.prompt_tokens_details?.cached_tokens, both.usage!.prompt_tokens - 2);
  });

  it('a second request with the same prefix reuses its cells and gives the same text as recomputing', async () => {
    const systemTokens = await tokens(cached.url, SYSTEM);
    assert.ok(systemTokens > 200 && systemTokens < 400, `${systemTokens}`);
    const first = await postJson(`${cached.url}/generate`, { inputs: `${SYSTEM} ${QUESTIONS[0]}`, parameters: { max_new_tokens: 20 } });
    const before = await metricValue(cached.url, 'tgi_prefix_cache_reused_tokens');
    const second = await postJson(`${cached.url}/generate`, {
      inputs: `${SYSTEM} ${QUESTIONS[1]}`,
      parameters: { max_new_tokens: 20, details: true, top_n_tokens: 2 },
    });
    const reused = (await metricValue(cached.url, 'tgi_prefix_cache_reused_tokens')) - before;
    // Up to TILED_QUERY_TOKENS of the shared prefix are computed again with the new question, as
    // recomputing the whole prompt would compute them.
    assert.ok(reused >= systemTokens - TILED_QUERY_TOKENS, `reused ${reused} of ${systemTokens}`);
    const reference = await postJson(`${plain.url}/generate`, {
      inputs: `${SYSTEM} ${QUESTIONS[1]}`,
      parameters: { max_new_tokens: 20, details: true, top_n_tokens: 2 },
    });
    assert.deepEqual(second.json, reference.json);
    assert.equal(first.status, 200);
    assert.equal(await metricValue(plain.url, 'tgi_prefix_cache_reused_tokens'), 0);
  });

  it('a prompt stays cached while other prompts come and go', async () => {
    const first = `${SYSTEM.replace(/Rule/g, 'Step')} ${QUESTIONS[3]}`;
    const firstTokens = await tokens(cached.url, first);
    const reference = await postJson(`${cached.url}/generate`, { inputs: first, parameters: { max_new_tokens: 12 } });
    for (const q of QUESTIONS.slice(4))
      await postJson(`${cached.url}/generate`, { inputs: `Once upon a time ${q}`, parameters: { max_new_tokens: 4 } });
    const before = await metricValue(cached.url, 'tgi_prefix_cache_reused_tokens');
    const again = await postJson(`${cached.url}/generate`, { inputs: first, parameters: { max_new_tokens: 12 } });
    const reused = (await metricValue(cached.url, 'tgi_prefix_cache_reused_tokens')) - before;
    assert.equal(reused, firstTokens - 1);
    assert.equal(again.json.generated_text, reference.json.generated_text);
  });

  it('concurrent requests behind one long prompt compute it once', async () => {
    const systemTokens = await tokens(cached.url, SYSTEM.replace(/Rule/g, 'Law'));
    const before = await metricValue(cached.url, 'tgi_prefill_tokens');
    const prompts = QUESTIONS.map((q) => `${SYSTEM.replace(/Rule/g, 'Law')} ${q}`);
    const results = await Promise.all(
      prompts.map((inputs) => postJson(`${cached.url}/generate`, { inputs, parameters: { max_new_tokens: 10 } })),
    );
    const computed = (await metricValue(cached.url, 'tgi_prefill_tokens')) - before;
    assert.ok(
      computed < systemTokens + 8 * (TILED_QUERY_TOKENS + 20),
      `computed ${computed} prompt tokens for a ${systemTokens}-token shared prefix`,
    );
    const references = await Promise.all(
      prompts.map((inputs) => postJson(`${plain.url}/generate`, { inputs, parameters: { max_new_tokens: 10 } })),
    );
    assert.deepEqual(
      results.map((r) => r.json.generated_text),
      references.map((r) => r.json.generated_text),
    );
  });

  it('prompt logprobs are always computed in full', async () => {
    const inputs = `${SYSTEM} ${QUESTIONS[2]}`;
    await postJson(`${cached.url}/generate`, { inputs, parameters: { max_new_tokens: 2 } });
    const withPrefill = await postJson(`${cached.url}/generate`, {
      inputs,
      parameters: { max_new_tokens: 2, decoder_input_details: true },
    });
    const reference = await postJson(`${plain.url}/generate`, { inputs, parameters: { max_new_tokens: 2, decoder_input_details: true } });
    assert.equal(withPrefill.json.details.prefill.length, await tokens(cached.url, inputs));
    assert.deepEqual(withPrefill.json.details.prefill, reference.json.details.prefill);
  });
});

// A random-weight Q8_0 model with the Qwen2 vocabulary and Qwen 2.5's template: a forced tool call's
// prompt is a few hundred tokens. llama.cpp's attention rounds differently for a long chunk and for
// a lone token, so a fully cached prompt (whose last token is computed alone) used to continue
// differently from the same prompt computed in one chunk.
describe('prefix caching with a chat template and a forced tool call', () => {
  let cached: RunningServer;
  let plain: RunningServer;
  before(async () => {
    const model = await toolTestModel();
    const args = [
      '--chat-template',
      join(SHARED, 'chat-templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'),
      '--max-total-tokens',
      '4096',
      '--max-batch-size',
      '2',
    ];
    cached = await startServer(args, {}, model);
    plain = await startServer([...args, '--disable-prefix-caching'], {}, model);
  });
  after(async () => {
    await cached?.stop();
    await plain?.stop();
  });

  const call = (url: string, content: string) =>
    postJson(
      `${url}/v1/chat/completions`,
      {
        model: 'tgi',
        messages: [{ role: 'user', content }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'book_flight',
              description: 'Book a flight',
              parameters: {
                type: 'object',
                properties: { origin: { type: 'string' }, destination: { type: 'string' } },
                required: ['origin', 'destination'],
              },
            },
          },
        ],
        tool_choice: { type: 'function', function: { name: 'book_flight' } },
        temperature: 0,
        max_tokens: 24,
        logprobs: true,
        top_logprobs: 2,
      },
      { 'x-use-cache': 'false' },
    ).then((response) => {
      assert.equal(response.status, 200, response.text);
      // The call and the logprobs of every token: the numbers, not only the choices, are the same.
      const choice = response.json.choices[0];
      return JSON.stringify({ arguments: choice.message.tool_calls[0].function.arguments, logprobs: choice.logprobs });
    });

  it('identical greedy requests give the same call and logprobs, first computed or served from cached cells, as without prefix caching', async () => {
    for (const content of [
      'Book me a flight from Paris to Rome',
      'Fly from Berlin to Oslo tomorrow',
      'I need to get from Lisbon to Madrid',
    ]) {
      const reference = await call(plain.url, content);
      const answers: string[] = [];
      for (let i = 0; i < 3; i++) answers.push(await call(cached.url, content));
      assert.deepEqual(answers, [reference, reference, reference], content);
    }
  });

  it('a prompt computed beside another request, or behind a cached prefix, gives the same call and logprobs as alone', async () => {
    const contents = ['Two seats from Vienna to Prague', 'From Athens to Sofia on Monday'];
    const alone = [];
    for (const content of contents) alone.push(await call(plain.url, content));
    assert.deepEqual(await Promise.all(contents.map((content) => call(cached.url, content))), alone);
    assert.deepEqual(await Promise.all(contents.map((content) => call(plain.url, content))), alone);
  });
});
