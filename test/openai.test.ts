// The OpenAI-compatible routes driven by the official `openai` client and by Hugging Face's
// `@huggingface/inference`, against the real engine on stories260K.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { InferenceClient } from '@huggingface/inference';
import { requantizeGguf } from '../src/bench/model/requantize.js';
import { GgufType } from '../src/bench/model/gguf-writer.js';
import { GREEDY_CONTINUATION, STORIES } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { openStream, readSse } from './helpers/sse.js';

/** A template that makes a chat request's prompt exactly BOS + the message texts, like /generate's. */
const STORY_TEMPLATE = '{{ bos_token }}{% for message in messages %}{{ message.content }}{% endfor %}';
const ONCE = [{ role: 'user' as const, content: 'Once upon a time' }];

function templateFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-template-')), 'template.jinja');
  writeFileSync(path, text);
  return path;
}

describe('OpenAI API with the openai client', () => {
  let server: RunningServer;
  let client: OpenAI;
  before(async () => {
    server = await startServer([
      '--chat-template',
      templateFile(STORY_TEMPLATE),
      '--max-batch-size',
      '8',
      '--served-model-name',
      'stories',
    ]);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => server.stop());

  it('chat: greedy content continues the story; ids, model, usage and finish reason as OpenAI', async () => {
    const r = await client.chat.completions.create({ model: 'anything', messages: ONCE, max_tokens: 12, temperature: 0 });
    const choice = r.choices[0];
    assert.ok(GREEDY_CONTINUATION.startsWith(choice.message.content!), choice.message.content!);
    assert.ok(choice.message.content!.length > 20);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.finish_reason, 'length');
    assert.match(r.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.model, 'anything');
    assert.ok(Math.abs(r.created - Date.now() / 1000) < 60);
    assert.equal(r.system_fingerprint, '0.1.0-native');
    // BOS + "Once upon a time" is 5 tokens.
    assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17, prompt_tokens_details: { cached_tokens: 0 } });
    const again = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 12, temperature: 0 });
    assert.equal(again.model, 'stories');
    assert.notEqual(again.id, r.id);
  });

  it('chat: text content parts are joined into the message', async () => {
    const parts = [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'Once upon' },
          { type: 'text' as const, text: ' a time' },
        ],
      },
    ];
    const r = await client.chat.completions.create({ model: 'tgi', messages: parts, max_tokens: 12, temperature: 0 });
    const plain = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 12, temperature: 0 });
    assert.equal(r.choices[0].message.content, plain.choices[0].message.content);
  });

  it('chat streaming: deltas add up to the non-streamed content; usage comes last when asked', async () => {
    const whole = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 20, temperature: 0 });
    const stream = await client.chat.completions.create({
      model: 'tgi',
      messages: ONCE,
      max_tokens: 20,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const chunk of chunks) if (chunk.choices.length > 0) text += chunk.choices[0].delta.content ?? '';
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    const finals = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finals.length, 1);
    assert.equal(finals[0].choices[0].finish_reason, 'length');
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    // The same prompt as `whole`'s: all but its last token come from the prefix cache.
    assert.deepEqual(last.usage, {
      prompt_tokens: 5,
      completion_tokens: 20,
      total_tokens: 25,
      prompt_tokens_details: { cached_tokens: 4 },
    });
  });

  it('stop strings end the text before them (OpenAI), in and out of streams', async () => {
    const r = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 40, temperature: 0, stop: ['Lily'] });
    assert.equal(r.choices[0].message.content, ', there was a little girl named ');
    assert.equal(r.choices[0].finish_reason, 'stop');
    const stream = await client.chat.completions.create({
      model: 'tgi',
      messages: ONCE,
      max_tokens: 40,
      temperature: 0,
      stop: 'named Li',
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, ', there was a little girl ');
  });

  it('completions: string prompt, greedy, and the same text streamed', async () => {
    const r = await client.completions.create({ model: 'tgi', prompt: 'Once upon a time', max_tokens: 16, temperature: 0 });
    assert.ok(GREEDY_CONTINUATION.startsWith(r.choices[0].text), r.choices[0].text);
    assert.ok(r.choices[0].text.length > 30);
    assert.equal(r.object, 'text_completion');
    assert.match(r.id, /^cmpl-/);
    const { prompt_tokens_details: _, ...counts } = r.usage!;
    assert.deepEqual(counts, { prompt_tokens: 5, completion_tokens: 16, total_tokens: 21 });
    const stream = await client.completions.create({
      model: 'tgi',
      prompt: 'Once upon a time',
      max_tokens: 16,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, r.choices[0].text);
    // The prompt just ran: all but its last token come from the prefix cache.
    assert.deepEqual(usage, { ...counts, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it('completions: OpenAI default of 16 tokens, prompt arrays indexed in order, echo', async () => {
    const r = await client.completions.create({
      model: 'tgi',
      prompt: ['Once upon a time', 'Once upon a time'],
      temperature: 0,
      echo: true,
    });
    assert.deepEqual(
      r.choices.map((c) => c.index),
      [0, 1],
    );
    for (const c of r.choices) {
      assert.ok(c.text.startsWith('Once upon a time, there was'), c.text);
      assert.equal(c.finish_reason, 'length');
    }
    assert.equal(r.usage!.completion_tokens, 32);
    assert.equal(r.usage!.prompt_tokens, 10);
  });

  it('n=2 gives two independent choices; a seed makes them reproducible', async () => {
    const ask = () => client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 24, n: 2, seed: 1234, temperature: 1 });
    const [a, b] = await Promise.all([ask(), ask()]);
    assert.deepEqual(
      a.choices.map((c) => c.index),
      [0, 1],
    );
    assert.deepEqual(
      a.choices.map((c) => c.message.content),
      b.choices.map((c) => c.message.content),
    );
    assert.notEqual(a.choices[0].message.content, a.choices[1].message.content);
    assert.equal(a.usage!.completion_tokens, 48);
    const other = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 24, seed: 99, temperature: 1 });
    assert.notEqual(other.choices[0].message.content, a.choices[0].message.content);
    const streamed = await client.chat.completions.create({
      model: 'tgi',
      messages: ONCE,
      max_tokens: 24,
      n: 2,
      seed: 1234,
      temperature: 1,
      stream: true,
    });
    const texts = ['', ''];
    for await (const chunk of streamed) for (const c of chunk.choices) texts[c.index] += c.delta.content ?? '';
    assert.deepEqual(
      texts,
      a.choices.map((c) => c.message.content),
    );
  });

  it('chat logprobs: one entry per token, top_logprobs sorted, greedy token first', async () => {
    const r = await client.chat.completions.create({
      model: 'tgi',
      messages: ONCE,
      max_tokens: 8,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const content = r.choices[0].logprobs!.content!;
    assert.equal(content.length, 8);
    assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
    for (const entry of content) {
      assert.ok(Number.isFinite(entry.logprob) && entry.logprob <= 0);
      assert.equal(entry.top_logprobs.length, 3);
      assert.equal(entry.top_logprobs[0].token, entry.token);
      assert.deepEqual(entry.bytes, [...Buffer.from(entry.token)]);
      for (let k = 1; k < 3; k++) assert.ok(entry.top_logprobs[k - 1].logprob >= entry.top_logprobs[k].logprob);
    }
    const plain = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 4, temperature: 0 });
    assert.equal(plain.choices[0].logprobs, null);
  });

  it('completions logprobs in the legacy format', async () => {
    const r = await client.completions.create({ model: 'tgi', prompt: 'Once upon a time', max_tokens: 6, temperature: 0, logprobs: 2 });
    const lp = r.choices[0].logprobs!;
    assert.equal(lp.tokens!.length, 6);
    assert.equal(lp.tokens!.join(''), r.choices[0].text);
    assert.equal(lp.text_offset![0], 0);
    assert.equal(lp.text_offset![1], lp.tokens![0].length);
    lp.top_logprobs!.forEach((top, i) => {
      assert.equal(Object.keys(top!).length, 2);
      assert.equal(Math.max(...Object.values(top!)), lp.token_logprobs![i]);
    });
  });

  it("logit_bias as a list of floats (TGI's form) is accepted and ignored, as TGI does", async () => {
    const plain = await client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 6, temperature: 0 });
    for (const body of [
      { messages: ONCE, max_tokens: 6, temperature: 0, logit_bias: [2.5, -1] },
      { prompt: 'Once upon a time', max_tokens: 6, temperature: 0, logit_bias: [] },
    ]) {
      const route = 'messages' in body ? 'chat/completions' : 'completions';
      const r = await postJson(`${server.url}/v1/${route}`, body);
      assert.equal(r.status, 200, r.text);
      if (route === 'chat/completions') assert.equal(r.json.choices[0].message.content, plain.choices[0].message.content);
    }
  });

  it('logit_bias forces or forbids tokens', async () => {
    const tokens = await postJson(`${server.url}/tokenize`, { inputs: ' Lily' });
    const lily = tokens.json[tokens.json.length - 1].id as number;
    const forced = await client.completions.create({
      model: 'tgi',
      prompt: 'Once upon a time',
      max_tokens: 3,
      temperature: 0,
      logit_bias: { [lily]: 100 },
    });
    assert.equal(forced.choices[0].text, ' Lily Lily Lily');
    const comma = (await postJson(`${server.url}/tokenize`, { inputs: ',' })).json.at(-1).id as number;
    const banned = await client.completions.create({
      model: 'tgi',
      prompt: 'Once upon a time',
      max_tokens: 3,
      temperature: 0,
      logit_bias: { [comma]: -100 },
    });
    assert.ok(!banned.choices[0].text.startsWith(','), banned.choices[0].text);
  });

  it('a final assistant message is continued, not answered', async () => {
    const r = await postJson(`${server.url}/chat_tokenize`, {
      messages: [
        { role: 'user', content: 'Once upon a time' },
        { role: 'assistant', content: ', there was a  ' },
      ],
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.templated_text, '<s>Once upon a time, there was a');
    const chat = await client.chat.completions.create({
      model: 'tgi',
      messages: [
        { role: 'user', content: 'Once upon a time' },
        { role: 'assistant', content: ', there was a' },
      ],
      max_tokens: 6,
      temperature: 0,
    });
    assert.equal(chat.choices[0].message.content, ' little girl named Lily');
  });

  it('/v1/models lists the served model, created when its file was; models.retrieve gives it', async () => {
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['stories'],
    );
    assert.equal(models.data[0].object, 'model');
    assert.equal(models.data[0].created, Math.floor(statSync(STORIES).mtimeMs / 1000));
    const model = await client.models.retrieve('stories');
    assert.deepEqual({ ...model }, { ...models.data[0] });
    await assert.rejects(
      () => client.models.retrieve('gpt-4o'),
      (error: any) => {
        assert.ok(error instanceof OpenAI.NotFoundError, String(error));
        assert.equal(error.code, 'model_not_found');
        assert.equal(error.param, 'model');
        assert.match(error.message, /`gpt-4o` is not served here/);
        return true;
      },
    );
  });

  it('a role OpenAI does not have is a 422 naming the roles there are', async () => {
    for (const messages of [[{ role: 'robot', content: 'Once upon a time' }], [{ content: 'Once upon a time' }]]) {
      await assert.rejects(
        () => client.chat.completions.create({ model: 'tgi', messages: messages as never, max_tokens: 2 }),
        (error: any) => {
          assert.ok(error instanceof OpenAI.UnprocessableEntityError, String(error));
          assert.equal(error.param, 'messages.0.role');
          assert.match(
            error.message,
            /(unknown role "robot"|missing role): expected one of system, developer, user, assistant, tool, function/,
          );
          return true;
        },
      );
    }
    for (const role of ['system', 'developer', 'user'] as const) {
      const r = await client.chat.completions.create({
        model: 'tgi',
        messages: [{ role, content: 'Once upon a time' }],
        max_tokens: 2,
        temperature: 0,
      });
      assert.equal(r.choices[0].finish_reason, 'length');
    }
    const native = await postJson(`${server.url}/chat_tokenize`, { messages: [{ role: 'robot', content: 'x' }] });
    assert.equal(native.status, 422);
    assert.match(native.json.error, /unknown role "robot"/);
    const huge = await postJson(
      `${server.url}/v1/chat/completions`,
      '{"messages": [{"role": 123456789012345678901234567890, "content": "x"}]}',
    );
    assert.equal(huge.status, 422);
    assert.match(huge.json.error.message, /role must be a string: expected one of system/);
  });

  it('errors are OpenAI error objects with the real status, streaming or not', async () => {
    const expectError = async (run: () => Promise<unknown>, status: number, param: string | null, message: RegExp) => {
      await assert.rejects(run, (error: any) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.equal(error.status, status);
        assert.equal(error.type, status === 429 ? 'rate_limit_error' : 'invalid_request_error');
        assert.equal(error.param, param);
        assert.match(error.message, message);
        return true;
      });
    };
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, temperature: 2.5 }),
      422,
      'temperature',
      /`temperature` must be >= 0 and <= 2/,
    );
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, temperature: 2.5, stream: true }),
      422,
      'temperature',
      /temperature/,
    );
    await expectError(() => client.chat.completions.create({ model: 'tgi', messages: ONCE, top_p: 0 }), 422, 'top_p', /top_p/);
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, presence_penalty: 3 }),
      422,
      'presence_penalty',
      /presence_penalty/,
    );
    await expectError(() => client.chat.completions.create({ model: 'tgi', messages: ONCE, n: 0 }), 422, 'n', /`n`/);
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, logit_bias: { '999999': 1 } }),
      422,
      'logit_bias',
      /token ids/,
    );
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, top_logprobs: 2 }),
      422,
      'top_logprobs',
      /requires `logprobs: true`/,
    );
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, logprobs: true, top_logprobs: 9 }),
      422,
      'top_logprobs',
      /--max-top-n-tokens/,
    );
    // Above OpenAI's 20 too, the bound named is this server's flag and value.
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, logprobs: true, top_logprobs: 25 }),
      422,
      'top_logprobs',
      /must be <= 5 on this server \(--max-top-n-tokens\). Given: 25/,
    );
    await expectError(() => client.chat.completions.create({ model: 'tgi', messages: [] }), 422, 'messages', /at least one message/);
    await expectError(
      () =>
        client.chat.completions.create({
          model: 'tgi',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is this?' },
                { type: 'image_url', image_url: { url: 'http://example.com/a.png' } },
              ],
            },
          ],
        }),
      422,
      'messages.0.content.1',
      /image content is not supported/,
    );
    await expectError(
      () =>
        client.chat.completions.create({
          model: 'tgi',
          messages: ONCE,
          response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', unevaluatedProperties: false } } },
        }),
      422,
      'response_format',
      /keyword unevaluatedProperties is not supported \(at \/unevaluatedProperties\)/,
    );
    await expectError(
      () => client.completions.create({ model: 'tgi', prompt: 'def f(', suffix: '  return 1' }),
      422,
      'suffix',
      /fill-in-the-middle/,
    );
    await expectError(() => client.completions.create({ model: 'tgi', prompt: [] }), 422, 'prompt', /Empty array/);
    await expectError(
      () => client.completions.create({ model: 'tgi', prompt: ['a', 'b', 'c', 'd', 'e'] }),
      422,
      'prompt',
      /maximum allowed batch size of 4/,
    );
    await expectError(() => client.completions.create({ model: 'tgi', prompt: 'a', max_tokens: 0 }), 422, 'max_tokens', /at least 1/);
    await expectError(
      () => client.chat.completions.create({ model: 'tgi', messages: 'hello' as never }),
      422,
      'messages',
      /Failed to deserialize/,
    );
  });

  it("a prompt too long for the context: 400 context_length_exceeded in OpenAI's terms, naming the field", async () => {
    const long = 'Once upon a time there was a girl. '.repeat(120);
    const expectContext = async (run: () => Promise<unknown>, param: string, message: RegExp) => {
      await assert.rejects(run, (error: any) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal(error.status, 400);
        assert.equal(error.code, 'context_length_exceeded');
        assert.equal(error.type, 'invalid_request_error');
        assert.equal(error.param, param);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /`inputs`|max_new_tokens/);
        return true;
      });
    };
    const messages = [{ role: 'user' as const, content: long }];
    const tooLong =
      /^400 The messages come to \d{3,} tokens, more than this model's context allows a prompt: 512 tokens in all, of which at most 511 for the prompt\. Shorten the messages\.$/;
    await expectContext(() => client.chat.completions.create({ model: 'tgi', messages }), 'messages', tooLong);
    await expectContext(() => client.chat.completions.create({ model: 'tgi', messages, stream: true }), 'messages', tooLong);
    await expectContext(() => client.chat.completions.create({ model: 'tgi', messages, max_tokens: 10 }), 'messages', tooLong);
    const document = (await (await fetch(`${server.url}/api-doc/openapi.json`)).json()) as any;
    for (const path of ['/v1/chat/completions', '/v1/completions'])
      assert.match(document.paths[path].post.responses['400'].description, /context_length_exceeded/);
    const ask =
      /^400 The messages come to 5 tokens and `max_tokens` asks for 5000 more: 5005 tokens, more than this model's context of 512\. Set `max_tokens` to at most 507, or shorten the messages\.$/;
    await expectContext(() => client.chat.completions.create({ model: 'tgi', messages: ONCE, max_tokens: 5000 }), 'max_tokens', ask);
    await expectContext(
      () => client.chat.completions.create({ model: 'tgi', messages: ONCE, max_completion_tokens: 5000 }),
      'max_completion_tokens',
      /`max_completion_tokens` asks for 5000 more/,
    );
    await expectContext(
      () => client.completions.create({ model: 'tgi', prompt: long }),
      'prompt',
      /^400 The prompt comes to \d{3,} tokens, more than this model's context allows a prompt/,
    );
    await expectContext(
      () => client.completions.create({ model: 'tgi', prompt: 'Once upon a time', max_tokens: 600 }),
      'max_tokens',
      /^400 The prompt comes to 5 tokens and `max_tokens` asks for 600 more/,
    );
    // A prompt that fits, but not with the completions route's default of 16 tokens.
    const near = 'a '.repeat(500);
    await expectContext(
      () => client.completions.create({ model: 'tgi', prompt: near }),
      'max_tokens',
      /and the default `max_tokens` asks for 16 more: \d+ tokens, more than this model's context of 512\. Set `max_tokens` to at most \d+, or shorten the prompt\.$/,
    );
  });

  it('malformed bodies get OpenAI error objects: bad JSON 400, no content type 415, wrong types 422', async () => {
    const bad = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"messages": [',
    });
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as any;
    assert.equal(badBody.error.type, 'invalid_request_error');
    assert.match(badBody.error.message, /Failed to parse the request body as JSON/);
    const untyped = await fetch(`${server.url}/v1/completions`, { method: 'POST', body: '{}' });
    assert.equal(untyped.status, 415);
    assert.equal(((await untyped.json()) as any).error.type, 'invalid_request_error');
    const wrong = await postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'x' }], max_tokens: 'ten' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.json.error.param, 'max_tokens');
  });

  it('a client that leaves a chat stream frees its sequences at once', async () => {
    const opened = await openStream(`${server.url}/v1/chat/completions`, { messages: ONCE, max_tokens: 400, n: 2, stream: true });
    opened.abort();
    let metrics = '';
    for (let i = 0; i < 50; i++) {
      metrics = await (await fetch(`${server.url}/metrics`)).text();
      if (/tgi_batch_current_size 0\b/.test(metrics) && /tgi_request_failure\{err="dropped"\} 2\b/.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(metrics, /tgi_batch_current_size 0\b/);
    assert.match(metrics, /tgi_request_failure\{err="dropped"\} [12]\b/);
  });
});

describe('OpenAI API with @huggingface/inference', () => {
  let server: RunningServer;
  let hf: InferenceClient;
  before(async () => {
    server = await startServer(['--chat-template', templateFile(STORY_TEMPLATE)]);
    hf = new InferenceClient(undefined, { endpointUrl: server.url });
  });
  after(() => server.stop());

  it('chatCompletion and chatCompletionStream give the greedy story', async () => {
    const r = await hf.chatCompletion({ messages: ONCE, max_tokens: 16, temperature: 0 });
    const content = r.choices[0].message.content!;
    assert.ok(GREEDY_CONTINUATION.startsWith(content) && content.length > 30, content);
    let streamed = '';
    for await (const chunk of hf.chatCompletionStream({ messages: ONCE, max_tokens: 16, temperature: 0 }))
      streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, content);
  });

  it('textGeneration (sent to /v1/completions) gives the greedy story', async () => {
    const r = await hf.textGeneration({ inputs: 'Once upon a time', parameters: { max_new_tokens: 16, temperature: 0 } });
    assert.ok(GREEDY_CONTINUATION.startsWith(r.generated_text) && r.generated_text.length > 30, r.generated_text);
  });

  it("textGeneration follows a regex grammar (TGI's parameter, sent along to /v1/completions)", async () => {
    const grammar = { type: 'regex' as const, value: ' there (was|lived) a [a-z]+ [a-z]+\\.' };
    const r = await hf.textGeneration({ inputs: 'Once upon a time,', parameters: { max_new_tokens: 24, temperature: 0, grammar } });
    assert.match(r.generated_text, /^ there (was|lived) a [a-z]+ [a-z]+\.$/);
    const free = await hf.textGeneration({ inputs: 'Once upon a time,', parameters: { max_new_tokens: 24, temperature: 0 } });
    assert.notEqual(free.generated_text, r.generated_text, 'the grammar changed the text');
  });
});

describe('chat without a model template, /chat_tokenize and /invocations', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('a local model without --served-model-name is reported by its file name, never its path', async () => {
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    assert.deepEqual(
      models.data.map((m: { id: string }) => m.id),
      ['stories260K.gguf'],
    );
    const r = await postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'Hello' }], max_tokens: 2 });
    assert.equal(r.json.model, 'stories260K.gguf');
  });

  it('falls back to ChatML with a startup warning, and stops at <|im_end|>', async () => {
    assert.ok(server.logs.some((line) => line.includes('no chat template') && line.includes('ChatML')));
    const r = await postJson(`${server.url}/chat_tokenize`, {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(r.status, 200);
    assert.equal(
      r.json.templated_text,
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
    );
    const text = r.json.templated_text as string;
    const bytes = Buffer.from(text);
    assert.equal(r.json.tokenize_response.at(-1).stop, bytes.length);
    assert.equal(r.json.tokenize_response.map((t: { text: string }) => t.text).join(''), text);
    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 30,
      temperature: 0,
      stop: ['a1', 'a2', 'a3', 'a4'],
    });
    assert.equal(chat.status, 200, 'the fallback end marker does not count against the 4 stop strings allowed');
    assert.ok(!chat.json.choices[0].message.content.includes('<|im_end|>'));
  });

  it('/chat_tokenize reports template errors as native 422s', async () => {
    const r = await postJson(`${server.url}/chat_tokenize`, {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
    });
    assert.equal(r.status, 422);
    assert.equal(r.json.error_type, 'validation');
    assert.match(r.json.error, /image content is not supported/);
  });

  it('/invocations routes by body shape: inputs, messages, prompt', async () => {
    const generate = await postJson(`${server.url}/invocations`, {
      inputs: 'Once upon a time',
      parameters: { max_new_tokens: 10, return_full_text: false },
    });
    assert.equal(generate.status, 200);
    assert.ok(GREEDY_CONTINUATION.startsWith(generate.json[0].generated_text));
    const chat = await postJson(`${server.url}/invocations`, { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 });
    assert.equal(chat.json.object, 'chat.completion');
    const completion = await postJson(`${server.url}/invocations`, { prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
    assert.equal(completion.json.object, 'text_completion');
    assert.ok(GREEDY_CONTINUATION.startsWith(completion.json.choices[0].text));
    const stream = await fetch(`${server.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, stream: true }),
    });
    const events = await readSse(stream);
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chatError = await postJson(`${server.url}/invocations`, { messages: [{ role: 'user', content: 'Hi' }], temperature: 9 });
    assert.equal(chatError.status, 422);
    assert.equal(chatError.json.error.param, 'temperature');
    const neither = await postJson(`${server.url}/invocations`, { foo: 1 });
    assert.equal(neither.status, 422);
    assert.equal(neither.json.error_type, 'validation');
    assert.match(neither.json.error, /SagemakerRequest/);
  });
});

describe('chat template errors', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer([
      '--chat-template',
      templateFile(
        "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user message') }}{% endif %}{{ messages[0].content }}",
      ),
    ]);
  });
  after(() => server.stop());

  it('raise_exception becomes a 422 template error with its message', async () => {
    const r = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [
        { role: 'system', content: 'x' },
        { role: 'user', content: 'y' },
      ],
    });
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'template_error');
    assert.match(r.json.error.message, /^Template error: .*Conversations must start with a user message/);
    const ok = await postJson(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 3,
    });
    assert.equal(ok.status, 200);
  });
});

describe('where the chat template comes from', () => {
  const render = async (server: RunningServer) =>
    (await postJson(`${server.url}/chat_tokenize`, { messages: [{ role: 'user', content: 'Hi' }] })).json.templated_text;

  it('GGUF metadata, then --tokenizer-config-path, then --chat-template win in that order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgi-node-template-'));
    const model = join(dir, 'stories-with-template.gguf');
    const template = (tag: string) => `{{ bos_token }}[${tag}]{% for m in messages %}{{ m.content }}{% endfor %}{{ eos_token }}`;
    await requantizeGguf(STORIES, model, null, new Map([['tokenizer.chat_template', { type: GgufType.STRING, value: template('gguf') }]]));
    const config = join(dir, 'tokenizer_config.json');
    writeFileSync(
      config,
      JSON.stringify({
        chat_template: [
          { name: 'tool_use', template: 'x' },
          { name: 'default', template: template('config') },
        ],
        bos_token: { content: '<B>' },
        eos_token: '<E>',
      }),
    );

    const fromGguf = await startServer([], {}, model);
    try {
      assert.equal(await render(fromGguf), '<s>[gguf]Hi</s>');
      assert.ok(fromGguf.logs.some((line) => line.includes('GGUF metadata')));
    } finally {
      await fromGguf.stop();
    }
    const fromConfig = await startServer(['--tokenizer-config-path', config], {}, model);
    try {
      assert.equal(await render(fromConfig), '<B>[config]Hi<E>');
    } finally {
      await fromConfig.stop();
    }
    const fromFile = await startServer(['--tokenizer-config-path', config, '--chat-template', templateFile(template('file'))], {}, model);
    try {
      assert.equal(await render(fromFile), '<B>[file]Hi<E>');
    } finally {
      await fromFile.stop();
    }
  });

  it('a missing template file stops the launcher with a clear error', async () => {
    await assert.rejects(
      startServer(['--chat-template', join(tmpdir(), 'no-such-template.jinja')]),
      /cannot read chat template file .*no-such-template\.jinja: no such file/,
    );
  });
});
