// Tool calling through the clients agent frameworks use: the openai SDK (a named tool_choice,
// streamed and not), LangChain's ChatOpenAI.bindTools with a forced tool, and the AI SDK's
// generateText with toolChoice {type: "tool"}. Qwen 2.5's template (Hermes format) on a random-weight
// model with the Qwen2 vocabulary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { z } from 'zod';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { SHARED } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { toolTestModel } from './helpers/tool-model.js';

const weatherParameters = {
  type: 'object',
  properties: { city: { type: 'string', enum: ['Paris', 'Tokyo'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city', 'days'],
  additionalProperties: false,
} as const;

const Weather = z.object({ city: z.enum(['Paris', 'Tokyo']), days: z.number().int().min(1).max(7) });
const Time = z.object({ timezone: z.enum(['UTC', 'CET']) });

describe('tool calls through the openai SDK, LangChain and the AI SDK', () => {
  let server: RunningServer;
  before(async () => {
    const template = join(SHARED, 'chat-templates', 'Qwen-Qwen2.5-7B-Instruct.jinja');
    server = await startServer(
      ['--chat-template', template, '--max-total-tokens', '4096', '--max-batch-size', '4'],
      {},
      await toolTestModel(),
    );
  });
  after(() => server?.stop());

  it('openai SDK: a named tool_choice gives a valid call, streamed and not, the same call', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const request = {
      model: 'tgi',
      messages: [{ role: 'user' as const, content: 'Weather in Paris for 3 days?' }],
      tools: [
        { type: 'function' as const, function: { name: 'get_weather', description: 'Weather forecast', parameters: weatherParameters } },
      ],
      tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
      temperature: 0,
      max_tokens: 80,
    };
    const completion = await client.chat.completions.create(request);
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls![0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    Weather.parse(JSON.parse(call.function.arguments));

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let args = '';
    let name = '';
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage.completion_tokens;
      const delta = chunk.choices[0]?.delta;
      for (const part of delta?.tool_calls ?? []) {
        name += part.function?.name ?? '';
        args += part.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(name, 'get_weather');
    assert.equal(args, call.function.arguments);
    assert.equal(usage, completion.usage!.completion_tokens);
  });

  it('LangChain: bindTools with a forced tool gives a tool call of the zod schema', async () => {
    const model = new ChatOpenAI({
      model: 'tgi',
      apiKey: 'unused',
      configuration: { baseURL: `${server.url}/v1` },
      temperature: 0,
      maxTokens: 80,
    });
    const bound = model.bindTools([{ name: 'get_time', description: 'Current time in a timezone', schema: Time }], {
      tool_choice: 'get_time',
    });
    const message = await bound.invoke('What time is it in Berlin?');
    assert.equal(message.tool_calls?.length, 1, JSON.stringify(message));
    const call = message.tool_calls![0];
    assert.equal(call.name, 'get_time');
    assert.deepEqual(Time.parse(call.args), call.args);
  });

  it('AI SDK: generateText with toolChoice {type: "tool"} gives a call of that tool', async () => {
    const provider = createOpenAICompatible({ name: 'tgi-node', baseURL: `${server.url}/v1` });
    const result = await generateText({
      model: provider.chatModel('tgi'),
      prompt: 'Weather in Tokyo?',
      tools: {
        get_weather: tool({ description: 'Weather forecast', inputSchema: Weather }),
        get_time: tool({ description: 'Current time', inputSchema: Time }),
      },
      toolChoice: { type: 'tool', toolName: 'get_weather' },
      temperature: 0,
      maxOutputTokens: 80,
    });
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0].toolName, 'get_weather');
    Weather.parse(result.toolCalls[0].input);
  });
});
