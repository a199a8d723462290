// Structured output through the clients applications use: LangChain's withStructuredOutput and the
// AI SDK's generateObject / streamObject, each sending its own JSON Schema (converted from zod, with
// zod's ±(2^53-1) integer bounds and LangChain's titles) as an OpenAI response_format.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, streamObject } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { quantizedStories } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';

const Person = z.object({
  name: z.string().max(12).describe('the first name'),
  age: z.number().int().min(0).max(120),
  pet: z.enum(['cat', 'dog']),
});

const Story = z.object({
  hero: z.string().max(16),
  friends: z.number().int(),
  happy: z.boolean(),
});

describe('structured output through LangChain and the AI SDK', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-batch-size', '8', '--max-total-tokens', '512'], {}, await quantizedStories());
  });
  after(() => server.stop());

  it('LangChain withStructuredOutput with its defaults (a json_schema response format) returns an object of the zod schema', async () => {
    const model = new ChatOpenAI({
      model: 'tgi',
      apiKey: 'unused',
      configuration: { baseURL: `${server.url}/v1` },
      temperature: 0,
      maxTokens: 120,
    });
    const structured = model.withStructuredOutput(Person);
    const person = await structured.invoke('Tell me about a person.');
    assert.deepEqual(Person.parse(person), person);
    assert.ok(person.name.length <= 12, JSON.stringify(person));
  });

  it('LangChain withStructuredOutput (json mode) returns a JSON object', async () => {
    // Any key may follow "{": this story model starts one and never ends it. Pushed towards "}", it
    // closes the object (an empty one is a JSON object too).
    const tokens = await postJson(`${server.url}/tokenize`, { inputs: '}', add_special_tokens: false });
    const closing = tokens.json.find((token: { text: string }) => token.text === '}');
    assert.ok(closing, JSON.stringify(tokens.json));
    const model = new ChatOpenAI({
      model: 'tgi',
      apiKey: 'unused',
      configuration: { baseURL: `${server.url}/v1` },
      temperature: 0,
      maxTokens: 200,
      logitBias: { [closing.id]: 10 },
    });
    const structured = model.withStructuredOutput(Story, { name: 'story', method: 'jsonMode', includeRaw: true });
    const { raw } = await structured.invoke('Answer in JSON.');
    const text = String(raw.content);
    const parsed = JSON.parse(text);
    assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), text);
  });

  it('AI SDK generateObject and streamObject return objects of the zod schema; the stream ends with the same object', async () => {
    const provider = createOpenAICompatible({ name: 'tgi-node', baseURL: `${server.url}/v1`, supportsStructuredOutputs: true });
    const model = provider.chatModel('tgi');
    const { object, finishReason } = await generateObject({
      model,
      schema: Story,
      prompt: 'Once upon a time',
      temperature: 0,
      maxOutputTokens: 120,
    });
    assert.equal(finishReason, 'stop');
    assert.deepEqual(Story.parse(object), object);
    const streamed = streamObject({ model, schema: Story, prompt: 'Once upon a time', temperature: 0, maxOutputTokens: 120 });
    let partials = 0;
    for await (const partial of streamed.partialObjectStream) {
      assert.equal(typeof partial, 'object');
      partials++;
    }
    assert.ok(partials > 1, `${partials} partial objects`);
    assert.deepEqual(await streamed.object, object);
  });
});
