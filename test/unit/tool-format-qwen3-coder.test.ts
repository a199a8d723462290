// The Qwen3-Coder format: `<function=...>` and `<parameter=...>` blocks inside `<tool_call>` tags,
// parameter values as raw text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { qwen3Coder } from '../../src/chat/tools/formats/qwen3-coder.js';
import { parseOutput } from '../../src/chat/tools/output.js';
import { ChatTemplate } from '../../src/chat/template.js';
import type { ToolSpec } from '../../src/chat/tools/format.js';
import {
  chatTemplate,
  checkCutCalls,
  grammarAccepts,
  parseChecked,
  templatesMatching,
  TIME,
  toolDefinition,
  WEATHER,
} from '../helpers/tool-formats.js';

const WEATHER_CALL =
  '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>';
const TIME_CALL = '<tool_call>\n<function=get_time>\n<parameter=timezone>\nCET\n</parameter>\n</function>\n</tool_call>';
const TWO = `${WEATHER_CALL}\n${TIME_CALL}`;

const FAMILY = ['NVIDIA-Nemotron-3-Nano-30B-A3B-BF16', 'Qwen3-Coder', 'Qwen3.5-4B', 'StepFun3.5-Flash'];

/** A tool with parameters of every kind, some optional. */
const SEARCH: ToolSpec = {
  name: 'search',
  parameters: {
    type: 'object',
    properties: {
      query: { type: 'string' },
      limit: { type: 'integer' },
      exact: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' } },
      filter: { type: 'object', properties: { lang: { type: 'string' } }, required: ['lang'] },
    },
    required: ['query'],
  },
};

describe('qwen3-coder tool calls', () => {
  test('is recognised from the templates that write it, and from no other', () => {
    assert.deepEqual(templatesMatching(qwen3Coder), FAMILY);
  });

  test('one call, with the arguments as JSON', () => {
    const out = parseChecked(qwen3Coder, WEATHER_CALL);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('two parallel calls', () => {
    const out = parseChecked(qwen3Coder, TWO);
    assert.deepEqual(out.calls, [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
      { name: 'get_time', arguments: '{"timezone": "CET"}' },
    ]);
    // Step 3.5 writes no line break between calls.
    assert.deepEqual(parseChecked(qwen3Coder, `${WEATHER_CALL}${TIME_CALL}`).calls, out.calls);
  });

  test('text before a call is content', () => {
    const out = parseChecked(qwen3Coder, `Let me look that up.\n\n${WEATHER_CALL}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('a tag in the reasoning is not a call', () => {
    const out = parseChecked(qwen3Coder, `<think>maybe <tool_call> would help</think>\n\n${WEATHER_CALL}`);
    assert.equal(out.content, '<think>maybe <tool_call> would help</think>');
    assert.equal(out.calls.length, 1);
  });

  test('text without a call is all content', () => {
    assert.deepEqual(parseChecked(qwen3Coder, 'It is sunny in <b>Paris</b>.'), { content: 'It is sunny in <b>Paris</b>.', calls: [] });
  });

  test('values are typed by the schema: strings as text, the rest as JSON', () => {
    const text =
      '<tool_call>\n<function=search>\n<parameter=query>\n42 "quoted"\nsecond line\n</parameter>\n<parameter=limit>\n10\n</parameter>\n' +
      '<parameter=exact>\nTrue\n</parameter>\n<parameter=tags>\n["a", "b"]\n</parameter>\n<parameter=filter>\n{"lang": "en"}\n</parameter>\n' +
      '<parameter=other>\nnot json\n</parameter>\n</function>\n</tool_call>';
    const out = parseChecked(qwen3Coder, text, { tools: [SEARCH] });
    assert.equal(
      out.calls[0].arguments,
      '{"query": "42 \\"quoted\\"\\nsecond line", "limit": 10, "exact": true, "tags": ["a", "b"], "filter": {"lang": "en"}, "other": "not json"}',
    );
    assert.deepEqual(JSON.parse(out.calls[0].arguments), {
      query: '42 "quoted"\nsecond line',
      limit: 10,
      exact: true,
      tags: ['a', 'b'],
      filter: { lang: 'en' },
      other: 'not json',
    });
    // An empty string, and a call without parameters.
    const empty = parseChecked(qwen3Coder, '<tool_call>\n<function=search>\n<parameter=query>\n\n</parameter>\n</function>\n</tool_call>', {
      tools: [SEARCH],
    });
    assert.equal(empty.calls[0].arguments, '{"query": ""}');
    const none = parseChecked(qwen3Coder, '<tool_call>\n<function=search>\n</function>\n</tool_call>', { tools: [SEARCH] });
    assert.equal(none.calls[0].arguments, '{}');
  });

  test('arguments grow one parameter at a time, and close with the call', () => {
    const partial = (text: string) => parseOutput(qwen3Coder, text, { final: false, tools: [WEATHER] }).calls;
    assert.deepEqual(partial('<tool_call>\n<function=get_wea'), []);
    assert.deepEqual(partial('<tool_call>\n<function=get_weather>\n<parameter=city>\nPar'), [{ name: 'get_weather', arguments: '' }]);
    assert.deepEqual(partial('<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3'), [
      { name: 'get_weather', arguments: '{"city": "Paris"' },
    ]);
    assert.deepEqual(partial(WEATHER_CALL.slice(0, WEATHER_CALL.indexOf('</function>') + 11)), [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
    ]);
  });

  test('a call cut short keeps its closed parameters, unclosed; a tag with no call is text', () => {
    checkCutCalls(
      qwen3Coder,
      [
        [
          '<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n',
          'get_weather',
          '{"city": "Paris", "days": ',
        ],
        // Cut inside a value: the parameter as far as it goes (a string without its closing quote).
        ['<tool_call>\n<function=get_weather>\n<parameter=city>\nPar', 'get_weather', '{"city": "Par'],
        ['<tool_call>\n<function=get_weather>\n', 'get_weather', ''],
      ],
      ['Use <tool_call> tags.', 'A <tool_call>\n<function=get_wea'],
    );
  });

  test('reads back the calls each template of the family writes, which the grammar takes', () => {
    const tools = [WEATHER, TIME].map(toolDefinition);
    const messages = [
      { role: 'user', content: 'Weather in Paris, and the time?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'call_0', type: 'function' as const, function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } },
          { id: 'call_1', type: 'function' as const, function: { name: 'get_time', arguments: { timezone: 'CET' } } },
        ],
      },
    ];
    const grammar = qwen3Coder.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    for (const name of FAMILY) {
      const rendered = ChatTemplate.compile(chatTemplate(name), { bosToken: '<s>', eosToken: '</s>' }).render({
        messages,
        tools,
        addGenerationPrompt: false,
      });
      const turn = rendered.slice(rendered.indexOf('Let me check.'), rendered.lastIndexOf('</tool_call>') + '</tool_call>'.length);
      const out = parseChecked(qwen3Coder, turn);
      assert.equal(out.content, 'Let me check.', name);
      assert.deepEqual(
        out.calls,
        [
          { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
          { name: 'get_time', arguments: '{"timezone": "CET"}' },
        ],
        name,
      );
      assert.ok(grammarAccepts(grammar, turn.slice(turn.indexOf('<tool_call>'))), name);
    }
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = qwen3Coder.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, WEATHER_CALL));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(!grammarAccepts(grammar, WEATHER_CALL.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, WEATHER_CALL.replace('3', '9')));
    assert.ok(!grammarAccepts(grammar, WEATHER_CALL.replace('<parameter=days>\n3\n</parameter>\n', '')), 'a required parameter left out');
    assert.ok(!grammarAccepts(qwen3Coder.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
  });

  test('the grammar writes string values as text, other values as JSON, optional parameters optionally', () => {
    const grammar = qwen3Coder.callsGrammar([SEARCH], { min: 1, max: 1 });
    const call = (parameters: string) => `<tool_call>\n<function=search>\n${parameters}</function>\n</tool_call>`;
    const parameter = (key: string, value: string) => `<parameter=${key}>\n${value}\n</parameter>\n`;
    assert.ok(grammarAccepts(grammar, call(parameter('query', 'two\nlines with </parameter> inside'))));
    assert.ok(grammarAccepts(grammar, call(parameter('query', '') + parameter('exact', 'false') + parameter('filter', '{"lang": "en"}'))));
    assert.ok(
      grammarAccepts(
        grammar,
        call(
          parameter('query', 'x') +
            parameter('limit', '5') +
            parameter('exact', 'true') +
            parameter('tags', '["a"]') +
            parameter('filter', '{"lang":"en"}'),
        ),
      ),
    );
    assert.ok(!grammarAccepts(grammar, call(parameter('query', 'a\n</parameter>'))), 'the closing line inside a string value');
    assert.ok(!grammarAccepts(grammar, call(parameter('query', 'x') + parameter('limit', 'five'))));
    assert.ok(!grammarAccepts(grammar, call(parameter('exact', 'true') + parameter('query', 'x'))), 'parameters out of order');
    assert.ok(!grammarAccepts(grammar, call(parameter('limit', '5'))), 'the required parameter missing');
    // What the grammar writes, the parser reads.
    const text = call(parameter('query', 'x') + parameter('tags', '["a"]'));
    assert.deepEqual(parseChecked(qwen3Coder, text, { tools: [SEARCH] }).calls, [
      { name: 'search', arguments: '{"query": "x", "tags": ["a"]}' },
    ]);
  });
});
