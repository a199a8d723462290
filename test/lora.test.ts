// LoRA adapters on stories260K, made by the project's own GGUF writer: a request with adapter_id
// generates exactly what the base model with the adapter merged into its weights generates; the base
// is unchanged; requests of several adapters run together and each gets its alone output.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLoraAdapter, type LoraSpec } from '../src/bench/model/lora.js';
import { writeMergedModel } from './helpers/merged-model.js';
import { requantizeGguf } from '../src/bench/model/requantize.js';
import { GgufType } from '../src/bench/model/gguf-writer.js';
import { GREEDY_CONTINUATION, STORIES } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { metricValue, postJson } from './helpers/http.js';
import { iterateSse } from './helpers/sse.js';
import { startFakeHub, type FakeHub } from './helpers/fake-hub.js';

const A1: LoraSpec = { rank: 4, alpha: 8, seed: 1 };
const A2: LoraSpec = { rank: 8, alpha: 8, seed: 2 };
const ZERO: LoraSpec = { rank: 4, alpha: 8, seed: 3, zeroB: true };
const PROMPT = 'Once upon a time';
const NO_CACHE = ['--response-cache-size', '0'];

interface Greedy {
  text: string;
  ids: number[];
  logprobs: number[];
}

async function greedy(server: RunningServer, prompt: string, parameters: Record<string, unknown> = {}, maxNewTokens = 30): Promise<Greedy> {
  const r = await postJson(`${server.url}/generate`, {
    inputs: prompt,
    parameters: { max_new_tokens: maxNewTokens, details: true, ...parameters },
  });
  assert.equal(r.status, 200, r.text);
  const tokens = r.json.details.tokens as { id: number; logprob: number }[];
  return { text: r.json.generated_text, ids: tokens.map((t) => t.id), logprobs: tokens.map((t) => t.logprob) };
}

/** Same tokens; logprobs equal up to the rounding of computing B(Ax) apart from W x (measured: up to 0.007). */
function assertSameGeneration(actual: Greedy, expected: Greedy, what: string): void {
  assert.deepEqual(actual.ids, expected.ids, `${what}: ${JSON.stringify(actual.text)} vs ${JSON.stringify(expected.text)}`);
  assert.equal(actual.text, expected.text);
  actual.logprobs.forEach((logprob, i) =>
    assert.ok(Math.abs(logprob - expected.logprobs[i]) < 2e-2, `${what}: logprob ${i}: ${logprob} vs ${expected.logprobs[i]}`),
  );
}

describe('LoRA adapters', () => {
  let directory: string;
  let server: RunningServer;
  let merged1: RunningServer;
  let merged2: RunningServer;
  const path = (name: string) => join(directory, name);

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tgi-node-lora-'));
    await writeLoraAdapter(STORIES, path('a1.gguf'), A1);
    await writeLoraAdapter(STORIES, path('a2.gguf'), A2);
    await writeLoraAdapter(STORIES, path('zero.gguf'), ZERO);
    await writeMergedModel(STORIES, path('merged-a1.gguf'), A1);
    await writeMergedModel(STORIES, path('merged-a2.gguf'), A2);
    [server, merged1, merged2] = await Promise.all([
      startServer([
        ...NO_CACHE,
        '--max-total-tokens',
        '256',
        '--lora-adapters',
        `a1=${path('a1.gguf')}, a2=${path('a2.gguf')},zero=${path('zero.gguf')}`,
      ]),
      startServer([...NO_CACHE, '--max-total-tokens', '256'], {}, path('merged-a1.gguf')),
      startServer([...NO_CACHE, '--max-total-tokens', '256'], {}, path('merged-a2.gguf')),
    ]);
  });

  after(async () => {
    await Promise.all([server?.stop(), merged1?.stop(), merged2?.stop()]);
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('adapter_id generates exactly what the merged model generates; the base is unchanged; B = 0 is the base', async () => {
    const base = await greedy(server, PROMPT);
    assert.ok(GREEDY_CONTINUATION.startsWith(base.text) || base.text.startsWith(GREEDY_CONTINUATION), base.text);
    const withA1 = await greedy(server, PROMPT, { adapter_id: 'a1' });
    assertSameGeneration(withA1, await greedy(merged1, PROMPT), 'a1');
    assert.notEqual(withA1.text, base.text, 'the adapter changes nothing: the test would prove nothing');
    const withA2 = await greedy(server, PROMPT, { adapter_id: 'a2' });
    assertSameGeneration(withA2, await greedy(merged2, PROMPT), 'a2');
    assert.notEqual(withA2.text, withA1.text);
    assertSameGeneration(await greedy(server, PROMPT, { adapter_id: 'zero' }), base, 'zero');
    // And the base model after adapters ran: unchanged.
    assertSameGeneration(await greedy(server, PROMPT), base, 'base after adapters');
  });

  it("the OpenAI routes take the adapter as model (vLLM's way) or adapter_id; another model name is the base", async () => {
    const completion = async (target: RunningServer, extra: Record<string, unknown>) => {
      const r = await postJson(`${target.url}/v1/completions`, { prompt: PROMPT, max_tokens: 20, temperature: 0, ...extra });
      assert.equal(r.status, 200, r.text);
      return r.json;
    };
    const expected = (await completion(merged1, {})).choices[0].text;
    const byModel = await completion(server, { model: 'a1' });
    assert.equal(byModel.choices[0].text, expected);
    assert.equal(byModel.model, 'a1');
    assert.equal((await completion(server, { adapter_id: 'a1' })).choices[0].text, expected);
    const other = await completion(server, { model: 'gpt-4o' });
    assert.equal(other.choices[0].text, (await completion(server, {})).choices[0].text);
    assert.notEqual(other.choices[0].text, expected);
    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      model: 'a2',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 8,
      temperature: 0,
    });
    const mergedChat = await postJson(`${merged2.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 8,
      temperature: 0,
    });
    assert.equal(chat.json.choices[0].message.content, mergedChat.json.choices[0].message.content);
  });

  it('an unknown adapter is a 422 naming the loaded ones; /info and /v1/models list them', async () => {
    const native = await postJson(`${server.url}/generate`, { inputs: PROMPT, parameters: { adapter_id: 'nope' } });
    assert.equal(native.status, 422);
    assert.equal(
      native.json.error,
      'Input validation error: adapter_id "nope" is not a loaded LoRA adapter; the loaded ones are: a1, a2, zero',
    );
    const openai = await postJson(`${server.url}/v1/completions`, { prompt: PROMPT, adapter_id: 'nope' });
    assert.equal(openai.status, 422);
    assert.match(openai.json.error.message, /the loaded ones are: a1, a2, zero/);
    const info = await (await fetch(`${server.url}/info`)).json();
    assert.deepEqual(info.lora_adapters, ['a1', 'a2', 'zero']);
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    assert.deepEqual(
      models.data.map((m: { id: string }) => m.id),
      ['stories260K.gguf', 'a1', 'a2', 'zero'],
    );
    assert.equal(models.data[1].parent, 'stories260K.gguf');
    assert.deepEqual(await (await fetch(`${server.url}/v1/models/a2`)).json(), models.data[2]);
    assert.equal((await fetch(`${server.url}/v1/models/nope`)).status, 404);
    const document = await (await fetch(`${server.url}/api-doc/openapi.json`)).json();
    assert.match(
      document.components.schemas.GenerateRequest.properties.parameters.properties.adapter_id.description,
      /one of a1, a2, zero/,
    );
  });

  it('16 concurrent requests over the base and two adapters each return their alone output, adapters progressing together', async () => {
    const adapters = [undefined, 'a1', 'a2'];
    const prompts = Array.from({ length: 16 }, (_, i) => ({
      prompt: ['Once upon a time', 'The little dog', 'Lily and Tom', 'One day'][i % 4],
      adapter: adapters[i % 3],
    }));
    const alone: string[] = [];
    for (const p of prompts) alone.push((await greedy(server, p.prompt, p.adapter ? { adapter_id: p.adapter } : {}, 40)).text);
    // The order in which events reach the client, across all 16 streams (no clock involved).
    let received = 0;
    const runs = await Promise.all(
      prompts.map(async (p) => {
        const response = await fetch(`${server.url}/generate_stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: p.prompt, parameters: { max_new_tokens: 40, ...(p.adapter ? { adapter_id: p.adapter } : {}) } }),
        });
        let text = '';
        let first = Infinity;
        let last = 0;
        for await (const event of iterateSse(response)) {
          const data = JSON.parse(event.data);
          received++;
          first = Math.min(first, received);
          last = received;
          if (data.generated_text != null) text = data.generated_text;
        }
        return { text, first, last };
      }),
    );
    runs.forEach((run, i) => assert.equal(run.text, alone[i], `request ${i} (${prompts[i].adapter ?? 'base'})`));
    // Requests of different adapters were generating at the same time: one had its first token
    // before another, of another adapter, had its last.
    const overlapping = runs.some((a, i) =>
      runs.some((b, j) => prompts[i].adapter !== prompts[j].adapter && a.first < b.last && b.first < a.last),
    );
    assert.ok(overlapping, `no two requests of different adapters overlapped: ${JSON.stringify(runs.map((r) => [r.first, r.last]))}`);
    assert.ok((await metricValue(server.url, 'tgi_adapter_request_count', '{adapter="a1"}')) >= 6);
  });

  it('cached prompt cells are reused within an adapter, never across adapters', async () => {
    const prompt =
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends every day.';
    const hits = () => metricValue(server.url, 'tgi_prefix_cache_hits');
    await greedy(server, prompt, {}, 10);
    const before = await hits();
    const a1 = await greedy(server, prompt, { adapter_id: 'a1' }, 10);
    assert.equal(await hits(), before, "the base model's cells were reused for a1");
    assertSameGeneration(a1, await greedy(merged1, prompt, {}, 10), 'a1 after the base on the same prompt');
    const again = await greedy(server, prompt, { adapter_id: 'a1' }, 10);
    assert.equal(await hits(), before + 1);
    assertSameGeneration(again, a1, 'a1 from its own cached cells');
  });
});

describe('LoRA adapters: loading', () => {
  let directory: string;
  let hub: FakeHub;
  let home: string;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tgi-node-lora-'));
    home = mkdtempSync(join(tmpdir(), 'tgi-node-hf-home-'));
    await writeLoraAdapter(STORIES, join(directory, 'a1.gguf'), A1);
    await writeMergedModel(STORIES, join(directory, 'merged-a1.gguf'), A1);
    hub = await startFakeHub([
      {
        id: 'org/stories-lora-GGUF',
        commits: { ['d'.repeat(40)]: { 'stories-lora-f32.gguf': readFileSync(join(directory, 'a1.gguf')) } },
        refs: { main: 'd'.repeat(40) },
      },
    ]);
  });

  after(async () => {
    await hub?.close();
    rmSync(directory, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('an adapter given by hub repository is downloaded and served', async () => {
    const env = {
      HF_ENDPOINT: hub.url,
      HF_HOME: home,
      HF_TOKEN: '',
      HUGGING_FACE_HUB_TOKEN: '',
      HF_HUB_CACHE: '',
      HUGGINGFACE_HUB_CACHE: '',
    };
    const [server, merged] = await Promise.all([
      startServer([...NO_CACHE, '--lora-adapters', 'org/stories-lora-GGUF'], env),
      startServer(NO_CACHE, {}, join(directory, 'merged-a1.gguf')),
    ]);
    try {
      assertSameGeneration(
        await greedy(server, PROMPT, { adapter_id: 'org/stories-lora-GGUF' }),
        await greedy(merged, PROMPT),
        'hub adapter',
      );
    } finally {
      await Promise.all([server.stop(), merged.stop()]);
    }
  });

  it('an adapter that does not fit the model stops the start with a clear error', async () => {
    const otherArchitecture = join(directory, 'qwen2-lora.gguf');
    await requantizeGguf(
      join(directory, 'a1.gguf'),
      otherArchitecture,
      null,
      new Map([['general.architecture', { type: GgufType.STRING, value: 'qwen2' }]]),
    );
    await assert.rejects(
      startServer(['--lora-adapters', `x=${otherArchitecture}`]),
      /LoRA adapter x \(qwen2-lora\.gguf\) is for the qwen2 architecture; the model is llama/,
    );
    await assert.rejects(startServer(['--lora-adapters', `x=${STORIES}`]), /LoRA adapter x \(stories260K\.gguf\) is not a LoRA adapter/);
    await assert.rejects(startServer(['--lora-adapters', `x=${join(directory, 'missing.gguf')}`]), /the file of adapter x does not exist/);
    await assert.rejects(
      startServer(['--lora-adapters', `x=${join(directory, 'a1.gguf')},x=${join(directory, 'a1.gguf')}`]),
      /the id \W+x\W+ is given twice/,
    );
  });
});

describe('LoRA adapters loaded and unloaded at runtime', () => {
  let directory: string;
  let server: RunningServer;
  let merged1: RunningServer;
  let merged2: RunningServer;
  const key = { authorization: 'Bearer admin-key' };
  const path = (name: string) => join(directory, name);
  const admin = (route: string, body: unknown, headers: Record<string, string> = key) =>
    postJson(`${server.url}/v1/${route}`, body, headers);
  const keyed = async (target: RunningServer, prompt: string, parameters: Record<string, unknown> = {}) => {
    const r = await postJson(`${target.url}/generate`, { inputs: prompt, parameters: { max_new_tokens: 20, ...parameters } }, key);
    return { status: r.status, text: r.json.generated_text as string, json: r.json };
  };

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tgi-node-lora-'));
    await writeLoraAdapter(STORIES, path('a1.gguf'), A1);
    await writeLoraAdapter(STORIES, path('a2.gguf'), A2);
    await writeMergedModel(STORIES, path('merged-a1.gguf'), A1);
    await writeMergedModel(STORIES, path('merged-a2.gguf'), A2);
    [server, merged1, merged2] = await Promise.all([
      startServer([...NO_CACHE, '--allow-runtime-lora', '--api-key', 'admin-key', '--max-total-tokens', '512']),
      startServer([...NO_CACHE, '--api-key', 'admin-key'], {}, path('merged-a1.gguf')),
      startServer([...NO_CACHE, '--api-key', 'admin-key'], {}, path('merged-a2.gguf')),
    ]);
  });

  after(async () => {
    await Promise.all([server?.stop(), merged1?.stop(), merged2?.stop()]);
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('loads an adapter that requests can use at once, refuses bad ones, and unloads it when unused', async () => {
    assert.equal((await admin('load_lora_adapter', { lora_name: 'late', lora_path: path('a1.gguf') }, {})).status, 401);
    const loaded = await admin('load_lora_adapter', { lora_name: 'late', lora_path: path('a1.gguf') });
    assert.equal(loaded.status, 200, loaded.text);
    assert.deepEqual(loaded.json, { lora_name: 'late', loaded: true, lora_adapters: ['late'] });
    const withLate = await keyed(server, PROMPT, { adapter_id: 'late' });
    assert.equal(withLate.text, (await keyed(merged1, PROMPT)).text);
    assert.ok((await (await fetch(`${server.url}/v1/models`)).json()).data.some((m: { id: string }) => m.id === 'late'));

    const again = await admin('load_lora_adapter', { lora_name: 'late', lora_path: path('a2.gguf') });
    assert.equal(again.status, 422);
    assert.match(again.json.error.message, /already loaded/);
    const notLora = await admin('load_lora_adapter', { lora_name: 'x', lora_path: STORIES });
    assert.equal(notLora.status, 422);
    assert.match(notLora.json.error.message, /is not a LoRA adapter/);
    assert.equal((await admin('load_lora_adapter', { lora_name: 'x', lora_path: path('missing.gguf') })).status, 422);
    assert.equal((await admin('load_lora_adapter', { lora_name: '' })).status, 422);

    // In use: a long stream with the adapter.
    const running = await fetch(`${server.url}/generate_stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key },
      body: JSON.stringify({ inputs: PROMPT, parameters: { adapter_id: 'late', max_new_tokens: 400, stop: [] } }),
    });
    const reader = running.body!.getReader();
    await reader.read();
    const busy = await admin('unload_lora_adapter', { lora_name: 'late' });
    assert.equal(busy.status, 409, busy.text);
    assert.match(busy.json.error.message, /late has 1 request running or waiting/);
    await reader.cancel();
    let unloaded = busy;
    for (let i = 0; i < 50 && unloaded.status === 409; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      unloaded = await admin('unload_lora_adapter', { lora_name: 'late' });
    }
    assert.equal(unloaded.status, 200, unloaded.text);
    assert.deepEqual(unloaded.json.lora_adapters, []);
    const gone = await keyed(server, PROMPT, { adapter_id: 'late' });
    assert.equal(gone.status, 422);
    assert.equal((await admin('unload_lora_adapter', { lora_name: 'late' })).status, 404);

    // The same name for another adapter: nothing cached under the old one is reused.
    assert.equal((await admin('load_lora_adapter', { lora_name: 'late', lora_path: path('a2.gguf') })).status, 200);
    assert.equal((await keyed(server, PROMPT, { adapter_id: 'late' })).text, (await keyed(merged2, PROMPT)).text);
  });

  it('is off without --allow-runtime-lora', async () => {
    const plain = await postJson(`${merged1.url}/v1/load_lora_adapter`, { lora_name: 'a', lora_path: path('a1.gguf') }, key);
    assert.equal(plain.status, 403);
    assert.match(plain.json.error.message, /--allow-runtime-lora/);
  });
});
