// Images end to end: a text model made from stories260K served with a random-weight projector
// (--mmproj), images sent as chat image_url parts (data URIs and URLs) through the openai SDK,
// Hugging Face's InferenceClient and LangChain, and as TGI's markdown in `inputs`; the families
// mlp (LLaVA), idefics3 (SmolVLM: slices and marker tokens) and gemma3 (non-causal image rows).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { InferenceClient } from '@huggingface/inference';
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage } from '@langchain/core/messages';
import { SHARED, STORIES } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { metricValue, postJson } from './helpers/http.js';
import { imageServer, jpg, png, webp } from './helpers/images.js';
import { noisePicture, visionPair } from './helpers/vision-models.js';
import { readSse } from './helpers/sse.js';

const TEMPLATE = join(SHARED, 'chat-templates', 'Qwen-Qwen2.5-7B-Instruct.jinja');
const dataUri = (bytes: Buffer, type = 'image/png') => `data:${type};base64,${bytes.toString('base64')}`;
const RED = dataUri(png(noisePicture(64, 64, 1)));
const BLUE = dataUri(png(noisePicture(64, 64, 2)));
const GREEN = dataUri(png(noisePicture(80, 48, 3)));

type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
const image = (url: string): Part => ({ type: 'image_url', image_url: { url } });
const text = (value: string): Part => ({ type: 'text', text: value });

async function chat(server: RunningServer, content: Part[] | string, extra: Record<string, unknown> = {}) {
  return postJson(`${server.url}/v1/chat/completions`, {
    messages: [{ role: 'user', content }],
    max_tokens: 24,
    temperature: 0,
    ...extra,
  });
}

function content(response: { status: number; json: any; text: string }): string {
  assert.equal(response.status, 200, response.text);
  return response.json.choices[0].message.content as string;
}

describe('images on an mlp (LLaVA) projector', () => {
  let server: RunningServer;
  let pictures: Awaited<ReturnType<typeof imageServer>>;
  const served = new Map<string, { type: string; body: Buffer }>();

  before(async () => {
    const pair = await visionPair('mlp', { quantized: true });
    server = await startServer(
      ['--mmproj', pair.projector, '--chat-template', TEMPLATE, '--allow-private-image-urls', '--response-cache-size', '0'],
      {},
      pair.model,
    );
    pictures = await imageServer((req, res) => {
      const found = served.get(req.url ?? '');
      if (!found) {
        res.writeHead(404).end('not here');
        return;
      }
      res.writeHead(200, { 'content-type': found.type }).end(found.body);
    });
    served.set('/red.png', { type: 'image/png', body: png(noisePicture(64, 64, 1)) });
    served.set('/red.jpg', { type: 'image/jpeg', body: jpg(noisePicture(64, 64, 1)) });
    served.set('/page.html', { type: 'text/html', body: Buffer.from('<html></html>') });
  });
  after(async () => {
    await server?.stop();
    await pictures?.close();
  });

  it('/info and /v1/models say the model takes images, and what one costs', async () => {
    const info = await (await fetch(`${server.url}/info`)).json();
    assert.deepEqual(info.input_modalities, ['text', 'image']);
    assert.deepEqual(info.image, { projector_type: 'mlp', image_size: 56, tokens_per_image: 16 });
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    assert.deepEqual(models.data[0].input_modalities, ['text', 'image']);
  });

  it('an image changes the answer, two images differ, the same image gives the same answer', async () => {
    const plain = content(await chat(server, [text('Once upon a time')]));
    const red = content(await chat(server, [image(RED), text('Once upon a time')]));
    const blue = content(await chat(server, [image(BLUE), text('Once upon a time')]));
    assert.notEqual(red, plain);
    assert.notEqual(red, blue);
    const again = await chat(server, [image(RED), text('Once upon a time')], { max_tokens: 23 });
    assert.equal(content(again), red.slice(0, content(again).length));
    assert.ok(content(again).length > 0);
  });

  it('the same image in the same place again reuses its KV (a prefix-cache hit)', async () => {
    const first = await chat(server, [image(GREEN), text('Tell me')], { max_tokens: 12 });
    const hits = await metricValue(server.url, 'tgi_prefix_cache_hits');
    const second = await chat(server, [image(GREEN), text('Tell me')], { max_tokens: 11 });
    assert.equal(await metricValue(server.url, 'tgi_prefix_cache_hits'), hits + 1);
    assert.ok(second.json.usage.prompt_tokens_details.cached_tokens >= 16, JSON.stringify(second.json.usage));
    assert.equal(content(second), content(first).slice(0, content(second).length));
  });

  it('prompt tokens count every image row', async () => {
    // Text on each side of an image is tokenized apart (as llama-server does): the text's count
    // may differ by a token or two from the same text without images.
    const none = await chat(server, [text('Once upon a time')]);
    const one = await chat(server, [image(RED), text('Once upon a time')]);
    const two = await chat(server, [image(RED), image(BLUE), text('Once upon a time')]);
    const textTokens = none.json.usage.prompt_tokens as number;
    assert.ok(Math.abs(one.json.usage.prompt_tokens - (textTokens + 16)) <= 2, JSON.stringify([textTokens, one.json.usage]));
    assert.equal(two.json.usage.prompt_tokens, one.json.usage.prompt_tokens + 16);
  });

  it('a streamed answer equals the whole one', async () => {
    const whole = content(await chat(server, [image(BLUE), text('Once upon a time')]));
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messages: [{ role: 'user', content: [image(BLUE), text('Once upon a time')] }],
        max_tokens: 24,
        temperature: 0,
        stream: true,
      }),
    });
    let streamed = '';
    for (const event of await readSse(response)) {
      if (event.data === '[DONE]') continue;
      streamed += JSON.parse(event.data).choices[0]?.delta?.content ?? '';
    }
    assert.equal(streamed, whole);
  });

  it('the openai SDK sends images as data URIs and as URLs', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const ask = async (url: string) =>
      (
        await client.chat.completions.create({
          model: 'tgi',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url } },
                { type: 'text', text: 'Once upon a time' },
              ],
            },
          ],
          max_tokens: 24,
          temperature: 0,
        })
      ).choices[0].message.content;
    const inline = await ask(RED);
    assert.equal(await ask(pictures.url('/red.png')), inline, 'the fetched PNG is the same image');
    assert.ok(inline && inline.length > 0);
    // The same picture as a JPEG: other pixels (lossy), so another image.
    assert.ok((await ask(pictures.url('/red.jpg')))!.length > 0);
  });

  it("Hugging Face's InferenceClient and LangChain's HumanMessage send image parts", async () => {
    const expected = content(await chat(server, [image(RED), text('Once upon a time')]));
    const hf = new InferenceClient(undefined, { endpointUrl: server.url });
    const r = await hf.chatCompletion({
      messages: [{ role: 'user', content: [image(RED), text('Once upon a time')] }],
      max_tokens: 24,
      temperature: 0,
    });
    assert.equal(r.choices[0].message.content, expected);
    const model = new ChatOpenAI({
      model: 'tgi',
      apiKey: 'unused',
      configuration: { baseURL: `${server.url}/v1` },
      temperature: 0,
      maxTokens: 24,
    });
    const answer = await model.invoke([new HumanMessage({ content: [image(RED), text('Once upon a time')] })]);
    assert.equal(answer.content, expected);
  });

  it("TGI's /generate takes markdown images in inputs; details.prefill shows the image rows", async () => {
    const withImage = await postJson(`${server.url}/generate`, {
      inputs: `Once upon a time![](${RED})`,
      parameters: { max_new_tokens: 12, decoder_input_details: true },
    });
    assert.equal(withImage.status, 200, withImage.text);
    const plain = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 12 } });
    assert.notEqual(withImage.json.generated_text, plain.json.generated_text);
    const prefill = withImage.json.details.prefill as { id: number; text: string; logprob: number | null }[];
    const rows = prefill.filter((token) => token.id < 0);
    assert.equal(rows.length, 16);
    assert.ok(rows.every((row) => row.text === '' && row.logprob === null));
    assert.equal(prefill.length, 1 + 4 + 16, 'BOS, four text tokens, the image');
    assert.ok(prefill.slice(2, 5).every((token) => typeof token.logprob === 'number'));
    // The second-to-last token before the image has a logprob; the image's rows none.
    const withText = await postJson(`${server.url}/generate`, {
      inputs: `![](${RED})Once upon a time`,
      parameters: { max_new_tokens: 4, decoder_input_details: true },
    });
    const afterImage = (withText.json.details.prefill as { id: number; logprob: number | null }[]).slice(17);
    // The first text token after the image has no logprob (an image row gave its logits), the next ones do.
    assert.equal(afterImage[0].logprob, null);
    assert.equal(typeof afterImage[1].logprob, 'number');
  });

  it('/tokenize and /chat_tokenize show where the image rows stand', async () => {
    const inputs = `Once upon ![](${RED}) a time`;
    const response = await postJson(`${server.url}/tokenize`, { inputs });
    assert.equal(response.status, 200, response.text);
    const spans = response.json as { id: number; text: string; start: number; stop: number }[];
    const rows = spans.filter((span) => span.id < 0);
    assert.equal(rows.length, 16);
    const place = { start: Buffer.byteLength('Once upon '), stop: Buffer.byteLength(`Once upon ![](${RED})`) };
    assert.ok(rows.every((row) => row.start === place.start && row.stop === place.stop && row.text === ''));
    const words = spans.filter((span) => span.id >= 0 && span.stop > span.start).map((span) => span.text);
    assert.deepEqual(words.join(''), 'Once upon  a time');
    const bad = await postJson(`${server.url}/tokenize`, { inputs: '![](data:image/png;base64,AAAA)' });
    assert.equal(bad.status, 422);
    assert.match(bad.json.error, /inputs: the data is not an image/);

    const chatSpans = await postJson(`${server.url}/chat_tokenize`, {
      messages: [{ role: 'user', content: [text('Look:'), image(RED), text('Once upon a time')] }],
    });
    assert.equal(chatSpans.status, 200, chatSpans.text);
    const templated = chatSpans.json.templated_text as string;
    const marker = templated.indexOf('<__media__>');
    assert.ok(marker > 0, templated);
    const chatRows = (chatSpans.json.tokenize_response as { id: number; start: number; stop: number }[]).filter((span) => span.id < 0);
    assert.equal(chatRows.length, 16);
    assert.ok(chatRows.every((row) => row.start === Buffer.byteLength(templated.slice(0, marker)) && row.stop === row.start + 11));
  });

  it('max_input_tokens counts image rows', async () => {
    const many = Array.from({ length: 8 }, (_, i) => image(dataUri(png(noisePicture(32, 32, 10 + i)))));
    const response = await postJson(`${server.url}/generate`, {
      inputs: `${many.map((part) => `![](${(part as { image_url: { url: string } }).image_url.url})`).join('')}${'Once upon a time '.repeat(120)}`,
      parameters: { max_new_tokens: 4 },
    });
    assert.equal(response.status, 422, response.text);
    // About 480 text tokens fit; with the 8 images' 128 rows they do not.
    const given = Number(/Given: (\d+)/.exec(response.json.error)?.[1]);
    assert.match(response.json.error, /`inputs` tokens \+ `max_new_tokens` must be <= 512/);
    assert.ok(given >= 480 + 128, response.json.error);
  });

  it("TGI's truncate keeps whole images or none", async () => {
    const inputs = `![](${RED})Once upon a time`;
    const whole = await postJson(`${server.url}/generate`, { inputs, parameters: { max_new_tokens: 4, decoder_input_details: true } });
    const length = whole.json.details.prefill.length as number;
    // Keeping the text alone drops the image whole.
    const text = await postJson(`${server.url}/generate`, {
      inputs,
      parameters: { max_new_tokens: 4, truncate: length - 17, decoder_input_details: true },
    });
    assert.equal(text.status, 200, text.text);
    assert.ok((text.json.details.prefill as { id: number }[]).every((token) => token.id >= 0));
    const cut = await postJson(`${server.url}/generate`, { inputs, parameters: { max_new_tokens: 4, truncate: length - 5 } });
    assert.equal(cut.status, 422, cut.text);
    assert.match(cut.json.error, /`truncate` \d+ would cut an image in two/);
  });

  it('8 image chats beside 8 text streams each give their answer alone', async () => {
    const images = [RED, BLUE, GREEN, dataUri(png(noisePicture(40, 40, 7)))];
    const imageChats = Array.from({ length: 8 }, (_, i) => [image(images[i % 4]), text(`Once upon a time ${i % 2 ? 'there' : 'a'}`)]);
    const textChats = Array.from({ length: 8 }, (_, i) => [text(`Lily ${'went '.repeat(i)}to the park`)]);
    const alone = [];
    for (const parts of [...imageChats, ...textChats]) alone.push(content(await chat(server, parts as Part[])));
    // The image chats whole, the text chats streamed, all at once.
    const streamed = async (parts: Part[]) => {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: parts }], max_tokens: 24, temperature: 0, stream: true }),
      });
      let answer = '';
      for (const event of await readSse(response))
        if (event.data !== '[DONE]') answer += JSON.parse(event.data).choices[0]?.delta?.content ?? '';
      return answer;
    };
    const together = await Promise.all([
      ...imageChats.map(async (parts) => content(await chat(server, parts as Part[]))),
      ...textChats.map((parts) => streamed(parts as Part[])),
    ]);
    assert.deepEqual(together, alone);
  });

  it('bad images are 422s naming the part; the server stays well', async () => {
    const cases: [Part[], RegExp][] = [
      [[text('hi'), image('data:image/png;base64,AAAA')], /messages\[0\]\.content\[1\]\.image_url: the data is not an image/],
      [[image(dataUri(Buffer.from('II*\0' + 'x'.repeat(40)), 'image/tiff'))], /unsupported image format \(TIFF\)/],
      [[image(dataUri(png(noisePicture(64, 64, 1)).subarray(0, 60)))], /PNG image (is invalid|could not be decoded)/],
      [[image('ftp://example.com/a.png')], /must be http\(s\) or data URIs/],
      [[image(pictures.url('/missing.png'))], /404/],
      [[image(pictures.url('/page.html'))], /text\/html/],
    ];
    for (const [parts, pattern] of cases) {
      const response = await chat(server, parts);
      assert.equal(response.status, 422, response.text);
      assert.equal(response.json.error.type, 'invalid_request_error');
      assert.match(response.json.error.message, pattern);
      assert.match(response.json.error.param, /^messages\[0\]\.content\[\d\]\.image_url$/);
    }
    const native = await postJson(`${server.url}/generate`, {
      inputs: '![](data:image/png;base64,AAAA) hi',
      parameters: { max_new_tokens: 2 },
    });
    assert.equal(native.status, 422);
    assert.equal(native.json.error_type, 'validation');
    assert.match(native.json.error, /inputs: the data is not an image/);
    assert.equal(content(await chat(server, [image(RED), text('Once upon a time')])).length > 0, true);
  });

  it('a webp image is taken as well (browsers send WebP)', async () => {
    const answer = await chat(server, [image(dataUri(await webp(noisePicture(64, 64, 1)), 'image/webp')), text('Once upon a time')]);
    assert.equal(content(answer), content(await chat(server, [image(RED), text('Once upon a time')])), 'lossless WebP: the same pixels');
  });
});

describe('image limits and refused addresses', () => {
  let server: RunningServer;
  before(async () => {
    const pair = await visionPair('mlp');
    server = await startServer(
      [
        '--mmproj',
        pair.projector,
        '--chat-template',
        TEMPLATE,
        '--max-images-per-request',
        '2',
        '--max-image-pixels',
        '5000',
        '--max-image-fetch-size',
        '4000',
      ],
      {},
      pair.model,
    );
  });
  after(() => server?.stop());

  it('too many images, too many pixels, a loopback URL: 422s that say what to do', async () => {
    const small = dataUri(png(noisePicture(32, 32, 1)));
    const many = await chat(server, [image(small), image(small), image(small)]);
    assert.equal(many.status, 422);
    assert.match(many.json.error.message, /3 images, more than --max-images-per-request 2/);
    const grey = { width: 100, height: 100, rgba: new Uint8Array(100 * 100 * 4).fill(200) };
    const large = await chat(server, [image(dataUri(png(grey)))]);
    assert.equal(large.status, 422);
    assert.match(
      large.json.error.message,
      /messages\[0\]\.content\[0\]\.image_url: image of 100x100 pixels exceeds --max-image-pixels 5000/,
    );
    const heavy = await chat(server, [text('hi'), image(dataUri(png(noisePicture(40, 40, 1))))]);
    assert.equal(heavy.status, 422);
    assert.match(
      heavy.json.error.message,
      /messages\[0\]\.content\[1\]\.image_url: the image is \d+ bytes, more than --max-image-fetch-size 4000/,
    );
    const local = await chat(server, [image('http://127.0.0.1:9/x.png')]);
    assert.equal(local.status, 422);
    assert.match(local.json.error.message, /--allow-private-image-urls/);
  });
});

describe('a text-only model keeps refusing images', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--chat-template', TEMPLATE], {}, STORIES);
  });
  after(() => server?.stop());

  it('an image part is a 422 saying the model takes text only', async () => {
    const response = await chat(server, [image(RED), text('hi')]);
    assert.equal(response.status, 422);
    assert.match(response.json.error.message, /takes text only/);
    const info = await (await fetch(`${server.url}/info`)).json();
    assert.deepEqual(info.input_modalities, ['text']);
  });
});

for (const family of ['idefics3', 'gemma3', 'qwen2.5vl'] as const) {
  describe(`images on a ${family} projector`, () => {
    let server: RunningServer;
    before(async () => {
      const pair = await visionPair(family, { quantized: true });
      server = await startServer(['--mmproj', pair.projector, '--chat-template', TEMPLATE, '--response-cache-size', '0'], {}, pair.model);
    });
    after(() => server?.stop());

    it('images change the answer; the same image twice gives the same answer, cached', async () => {
      const plain = content(await chat(server, [text('Once upon a time')]));
      const red = content(await chat(server, [image(RED), text('Once upon a time')]));
      const blue = content(await chat(server, [image(BLUE), text('Once upon a time')]));
      assert.notEqual(red, plain);
      assert.notEqual(red, blue);
      const hits = await metricValue(server.url, 'tgi_prefix_cache_hits');
      const again = content(await chat(server, [image(RED), text('Once upon a time')], { max_tokens: 20 }));
      assert.equal(again, red.slice(0, again.length));
      assert.equal(await metricValue(server.url, 'tgi_prefix_cache_hits'), hits + 1);
      const two = await chat(server, [image(RED), text('and'), image(BLUE), text('Once upon a time')]);
      assert.ok(content(two).length > 0);
    });
  });
}
