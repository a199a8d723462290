// Inputs an attacker or an unlucky client sends: huge prompts, deep nesting, impossible sequence
// counts, u64 seeds, extreme sampling values. Each answer is asserted on status, body and message.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GREEDY_CONTINUATION } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { iterateSse } from './helpers/sse.js';

/** `depth` objects nested as {"key": {"key": ...}} written directly as JSON text (no recursion). */
const nestedObjectText = (depth: number, key = 'a') => `{"${key}":`.repeat(depth) + '{}' + '}'.repeat(depth);
const nestedArrayText = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Polls /health until `pending` settles; returns how many answers arrived before it did. A server
 * whose event loop is held by the pending request's work answers none of them until that work ends.
 */
async function healthAnswersWhile(url: string, pending: Promise<unknown>): Promise<number> {
  let settled = false;
  void pending.finally(() => (settled = true));
  let answered = 0;
  while (!settled) {
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 200);
    if (!settled) answered += 1;
    await new Promise((r) => setTimeout(r, 50));
  }
  return answered;
}

describe('robustness', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  describe('a huge prompt does not hold the event loop', () => {
    it('/health and a running stream keep their pace while 1.9 MB of emoji is tokenized', async () => {
      const emoji = '😀'.repeat(475_000); // 1.9 MB of UTF-8, every character a byte fallback
      const running = await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 400 } });
      let bigSent = false;
      let bigSettled = false;
      let eventsWhileBig = 0;
      const streamDone = (async () => {
        for await (const _event of iterateSse(running)) if (bigSent && !bigSettled) eventsWhileBig += 1;
      })();
      bigSent = true;
      const big = postJson(`${server.url}/generate`, { inputs: emoji, parameters: { max_new_tokens: 1 } });
      void big.finally(() => (bigSettled = true));
      const healthAnswers = await healthAnswersWhile(server.url, big);
      const answer = await big;
      await streamDone;
      assert.equal(answer.status, 422);
      // BOS, the space prefix, then 4 byte tokens per emoji: every token was counted.
      assert.match(answer.json.error, /Given: 1900002 `inputs` tokens/);
      // Tokenizing 1.9 MB takes a while; the event loop stays free meanwhile: /health answers and the
      // running stream goes on before the big request's answer.
      assert.ok(healthAnswers >= 2, `${healthAnswers} /health answers while the big prompt was tokenized`);
      assert.ok(eventsWhileBig >= 2, `${eventsWhileBig} stream events while the big prompt was tokenized`);
    });

    it('/tokenize of a long text answers every token, with byte offsets', async () => {
      const text = 'Once upon a time, there was a little girl. '.repeat(2_000);
      const r = await postJson(`${server.url}/tokenize`, { inputs: text });
      assert.equal(r.status, 200);
      const tokens = r.json as { id: number; text: string; start: number; stop: number }[];
      assert.equal(tokens[0].id, 1);
      assert.equal(tokens.map((t) => t.text).join(''), text);
      assert.equal(tokens[tokens.length - 1].stop, Buffer.byteLength(text));
    });

    it('a chat of 50,000 messages is templated and tokenized off the event loop', async () => {
      const messages = Array.from({ length: 50_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'hi' }));
      // A small answer (the prompt is far too long), so that only the server's work is watched.
      const pending = postJson(`${server.url}/v1/chat/completions`, { messages, max_tokens: 1 });
      const healthAnswers = await healthAnswersWhile(server.url, pending);
      const r = await pending;
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'context_length_exceeded');
      const tokens = Number(/The messages come to (\d+) tokens/.exec(r.json.error.message)?.[1]);
      assert.ok(tokens > 250_000, r.json.error.message);
      assert.ok(healthAnswers >= 2, `${healthAnswers} /health answers while the chat was templated and tokenized`);
    });
  });

  describe('deep nesting is a 422 naming the field', () => {
    const user = [{ role: 'user', content: 'hi' }];
    it('chat_template_kwargs 2,000 deep (OpenAI body)', async () => {
      const body = `{"messages":${JSON.stringify(user)},"chat_template_kwargs":${nestedObjectText(2000)}}`;
      const r = await postJson(`${server.url}/v1/chat/completions`, body);
      assert.equal(r.status, 422);
      assert.match(r.json.error.message, /chat_template_kwargs\.a\.a.*nested too deeply/);
      assert.match(r.json.error.param, /^chat_template_kwargs/);
      assert.equal(r.json.error.type, 'invalid_request_error');
    });

    it("a tool's parameters 5,000 deep", async () => {
      const parameters = '{"type":"object","properties":{"x":'.repeat(5000) + '{}' + '}}'.repeat(5000);
      const body = `{"messages":${JSON.stringify(user)},"tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`;
      const r = await postJson(`${server.url}/v1/chat/completions`, body);
      assert.equal(r.status, 422);
      assert.match(r.json.error.message, /tools\.0\.function\.parameters.*nested too deeply/);
    });

    it('tool_calls arguments holding JSON 10,000 deep', async () => {
      const messages = [
        ...user,
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: nestedArrayText(10_000) } }],
        },
        { role: 'user', content: 'again' },
      ];
      for (const route of ['/v1/chat/completions', '/chat_tokenize']) {
        const r = await postJson(`${server.url}${route}`, { messages });
        assert.equal(r.status, 422, route);
        const message = route === '/chat_tokenize' ? r.json.error : r.json.error.message;
        assert.match(message, /messages\.1\.tool_calls\.0\.function\.arguments.*nested too deeply/, route);
      }
    });

    it('/invocations answers in the family of the body it was sent', async () => {
      const chat = await postJson(`${server.url}/invocations`, `{"prompt":"hi","max_tokens":${nestedArrayText(100)}}`);
      assert.equal(chat.status, 422);
      assert.match(chat.json.error.message, /max_tokens\.0\.0.*nested too deeply/);
      const native = await postJson(`${server.url}/invocations`, `{"inputs":"hi","parameters":${nestedObjectText(100)}}`);
      assert.equal(native.status, 422);
      assert.equal(native.json.error_type, 'validation');
    });

    it('a deep value hidden behind a duplicate key, beside an integer beyond 2^53', async () => {
      const body = `{"inputs":${nestedArrayText(5000)},"inputs":"hi","parameters":{"seed":12345678901234567890}}`;
      const r = await postJson(`${server.url}/generate`, body);
      assert.equal(r.status, 422);
      assert.match(r.json.error, /nested too deeply/);
    });

    it('native routes answer their own error body', async () => {
      for (const route of ['/generate', '/generate_stream', '/', '/tokenize', '/invocations']) {
        const r = await postJson(`${server.url}${route}`, `{"inputs":"hi","parameters":{"stop":${nestedArrayText(3000)}}}`);
        assert.equal(r.status, 422, route);
        assert.equal(r.json.error_type, 'validation', route);
        assert.match(r.json.error, /parameters\.stop\.0\.0.*nested too deeply/, route);
      }
    });
  });

  describe('requests that can never run are 422, not 429', () => {
    it('chat n=129 on a server of 128 concurrent requests', async () => {
      const r = await postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], n: 129, max_tokens: 1 });
      assert.equal(r.status, 422);
      assert.match(r.json.error.message, /needs 129 sequences .* at most 128 \(--max-concurrent-requests\)/);
    });

    it('4 prompts x n=128, and best_of=1000', async () => {
      const many = await postJson(`${server.url}/v1/completions`, { prompt: ['a', 'b', 'c', 'd'], n: 128, max_tokens: 1 });
      assert.equal(many.status, 422);
      assert.match(many.json.error.message, /needs 512 sequences/);
      const bestOf = await postJson(`${server.url}/v1/completions`, { prompt: 'a', best_of: 1000, max_tokens: 1 });
      assert.equal(bestOf.status, 422);
      assert.match(bestOf.json.error.message, /needs 1000 sequences/);
    });
  });

  describe('seeds are any u64, exactly', () => {
    it('a seed above 2^53 is accepted and echoed digit for digit', async () => {
      const body =
        '{"inputs":"Once upon a time","parameters":{"max_new_tokens":8,"do_sample":true,"details":true,"seed":12345678901234567890}}';
      const first = await postJson(`${server.url}/generate`, body);
      const second = await postJson(`${server.url}/generate`, body, { 'x-use-cache': 'false' });
      assert.equal(first.status, 200, first.text);
      assert.match(first.text, /"seed":12345678901234567890[,}]/);
      assert.equal(first.json.generated_text, second.json.generated_text);
      const neighbour = await postJson(`${server.url}/generate`, body.replace('12345678901234567890', '12345678901234567891'));
      assert.match(neighbour.text, /"seed":12345678901234567891[,}]/);
      const last = await postJson(`${server.url}/generate_stream`, body.replace('12345678901234567890', '18446744073709551615'));
      assert.match(last.text, /"seed":18446744073709551615[,}]/);
    });

    it('2^64 and negative seeds are refused on both faces', async () => {
      for (const seed of ['18446744073709551616', '-1', '1.5']) {
        const native = await postJson(`${server.url}/generate`, `{"inputs":"hi","parameters":{"seed":${seed}}}`);
        assert.equal(native.status, 422, seed);
        assert.match(native.json.error, /parameters\.seed: expected an integer in \[0, 2\^64\)/);
        const openai = await postJson(`${server.url}/v1/completions`, `{"prompt":"hi","seed":${seed}}`);
        assert.equal(openai.status, 422, seed);
        assert.equal(openai.json.error.param, 'seed');
      }
      const big = await postJson(
        `${server.url}/v1/completions`,
        '{"prompt":"Once upon a time","max_tokens":4,"seed":18446744073709551615}',
      );
      assert.equal(big.status, 200, big.text);
    });
  });

  describe('extreme sampling values are well defined', () => {
    const assertFinite = (tokens: { logprob: unknown }[]) => {
      for (const t of tokens) assert.ok(typeof t.logprob === 'number' && Number.isFinite(t.logprob), `logprob ${t.logprob}`);
    };

    it('a vanishing temperature is greedy, with finite logprobs', async () => {
      for (const temperature of [1e-38, 1e-300, 5e-324]) {
        const r = await postJson(`${server.url}/generate`, {
          inputs: 'Once upon a time',
          parameters: { max_new_tokens: 20, temperature, details: true, top_n_tokens: 3 },
        });
        assert.equal(r.status, 200);
        assert.ok(GREEDY_CONTINUATION.startsWith(r.json.generated_text), `${temperature}: ${r.json.generated_text}`);
        assertFinite(r.json.details.tokens);
        for (const top of r.json.details.top_tokens) assertFinite(top);
      }
      const chat = await postJson(`${server.url}/v1/completions`, {
        prompt: 'Once upon a time',
        max_tokens: 20,
        temperature: 1e-38,
        logprobs: 3,
      });
      assert.equal(chat.status, 200);
      assert.ok(GREEDY_CONTINUATION.startsWith(chat.json.choices[0].text), chat.json.choices[0].text);
      for (const value of chat.json.choices[0].logprobs.token_logprobs) assert.ok(Number.isFinite(value), `${value}`);
    });

    it('extreme penalties and filters never give null logprobs', async () => {
      const cases: Record<string, unknown>[] = [
        { repetition_penalty: 1e-300 },
        { repetition_penalty: 1e300 },
        { temperature: 1e300, do_sample: true, seed: 1 },
        { top_p: 1e-300 },
        { typical_p: 1e-300 },
        { top_k: 2147483647 },
        { frequency_penalty: 2, repetition_penalty: 1e-30 },
      ];
      for (const extra of cases) {
        const r = await postJson(`${server.url}/generate`, {
          inputs: 'Once upon a time',
          parameters: { max_new_tokens: 10, details: true, top_n_tokens: 2, ...extra },
        });
        assert.equal(r.status, 200, JSON.stringify(extra));
        assert.equal(r.json.details.generated_tokens, 10);
        assertFinite(r.json.details.tokens);
        for (const top of r.json.details.top_tokens) assertFinite(top);
      }
      const chat = await postJson(`${server.url}/v1/chat/completions`, {
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 5,
        repetition_penalty: 1e-300,
        logprobs: true,
        top_logprobs: 2,
      });
      assert.equal(chat.status, 200);
      for (const entry of chat.json.choices[0].logprobs.content) {
        assert.ok(Number.isFinite(entry.logprob));
        for (const top of entry.top_logprobs) assert.ok(Number.isFinite(top.logprob));
      }
    });
  });

  it('template kwargs may shadow Jinja globals and hold integers beyond 2^53', async () => {
    const r = await postJson(
      `${server.url}/chat_tokenize`,
      '{"messages":[{"role":"user","content":"hi"}],"chat_template_kwargs":{"namespace":"x","range":12345678901234567890}}',
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.templated_text, '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it("the stop-sequence limit counts only the user's stops", async () => {
    const stop = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const r = await postJson(`${server.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], stop });
    assert.equal(r.status, 422);
    assert.match(r.json.error.message, /`stop` supports up to 4 stop sequences\. Given: 10000$/);
  });
});
