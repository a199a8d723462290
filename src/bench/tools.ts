// What offering tools costs a chat generation that answers in text: the same prompt tokens (the
// chat template's rendering with the tools) generated through /v1/chat/completions with `tools`
// (auto: the text is held to never start a call unless it is a whole one, and parsed for calls as
// it streams) and through /v1/completions as plain text, in alternating rounds at each concurrency.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatTable, runRequests, type LevelResult, type Target, type Workload } from './load.js';
import { alternatingRounds, randomPrompts, startTgiNode, type RoundsBenchOptions } from './grammar.js';
import { ensureBenchModel } from './model/cached-model.js';

export interface ToolsBenchOptions extends RoundsBenchOptions {
  chatTemplate: string;
}

/** Tools as applications offer them: a few functions with typed, partly constrained arguments. */
const BENCH_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather forecast for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          days: { type: 'integer', minimum: 1, maximum: 14 },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['city'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'search',
      description: 'Search the web',
      parameters: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 50 } },
        required: ['query'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'send_email',
      description: 'Send an email',
      parameters: {
        type: 'object',
        properties: { to: { type: 'array', items: { type: 'string' } }, subject: { type: 'string' }, body: { type: 'string' } },
        required: ['to', 'body'],
      },
    },
  },
];

export interface ToolsBenchRow {
  concurrency: number;
  plain: LevelResult;
  tools: LevelResult;
  ratio: number;
}

export async function benchTools(options: ToolsBenchOptions): Promise<ToolsBenchRow[]> {
  const model = await ensureBenchModel(options, (message) => console.error(message));
  const server = await startTgiNode(model, options, options.promptTokens + options.newTokens + 1024, [
    '--chat-template',
    options.chatTemplate,
  ]);
  try {
    const prompts = await randomPrompts(server.url, options, options.promptTokens);
    // The prompt the chat route makes of each request: the baseline generates from exactly it.
    const rendered: string[] = [];
    for (const prompt of prompts) {
      const response = await fetch(`${server.url}/chat_tokenize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: prompt }], tools: BENCH_TOOLS }),
      });
      rendered.push(((await response.json()) as { templated_text: string }).templated_text);
    }
    const chat: Target = { name: 'tgi-node', url: server.url, api: 'chat' };
    const completions: Target = { name: 'tgi-node', url: server.url, api: 'openai' };
    const tools: Workload = {
      name: 'chat with tools',
      prompt: (i) => prompts[i % prompts.length],
      maxNewTokens: options.newTokens,
      tools: BENCH_TOOLS,
    };
    const plain: Workload = { name: 'same prompt as text', prompt: (i) => rendered[i % rendered.length], maxNewTokens: options.newTokens };
    // Warm-up: the first request with tools compiles their grammar.
    await runRequests(chat, { ...tools, maxNewTokens: 8 }, 1, 2);
    await runRequests(completions, { ...plain, maxNewTokens: 8 }, 1, 2);
    const rows: ToolsBenchRow[] = [];
    for (const concurrency of options.concurrency) {
      const [plainResult, toolsResult] = await alternatingRounds(
        [
          { target: completions, workload: plain },
          { target: chat, workload: tools },
        ],
        concurrency,
        options,
      );
      rows.push({
        concurrency,
        plain: plainResult,
        tools: toolsResult,
        ratio: toolsResult.outputTokensPerSecond / plainResult.outputTokensPerSecond,
      });
    }
    console.log(formatTable(rows.flatMap((r) => [r.plain, r.tools])));
    console.log('\nstreams  plain tok/s  with tools tok/s  ratio');
    for (const r of rows) {
      console.log(
        `${String(r.concurrency).padStart(7)}${r.plain.outputTokensPerSecond.toFixed(1).padStart(13)}${r.tools.outputTokensPerSecond.toFixed(1).padStart(18)}${r.ratio.toFixed(3).padStart(7)}`,
      );
    }
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      const { out: _out, model: _model, ...settings } = options;
      const recorded = { ...settings, vocab: basename(options.vocab), chatTemplate: basename(options.chatTemplate) };
      writeFileSync(
        join(options.out, 'tools-results.json'),
        JSON.stringify({ model: basename(model), tools: BENCH_TOOLS, options: recorded, rows }, null, 2),
      );
    }
    return rows;
  } finally {
    await server.stop();
  }
}
