// The GLM-4.x format: the function's name after `<tool_call>`, then `<arg_key>` / `<arg_value>`
// pairs with raw values; GLM-4.5/4.6 on separate lines, GLM-4.7 without line breaks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { glm } from '../../src/chat/tools/formats/glm.js';
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

// GLM-4.6
const WEATHER_CALL =
  '<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>';
const TIME_CALL = '<tool_call>get_time\n<arg_key>timezone</arg_key>\n<arg_value>CET</arg_value>\n</tool_call>';
const TWO = `${WEATHER_CALL}\n${TIME_CALL}`;
// GLM-4.7
const WEATHER_CALL_47 =
  '<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>3</arg_value></tool_call>';
const TIME_CALL_47 = '<tool_call>get_time<arg_key>timezone</arg_key><arg_value>CET</arg_value></tool_call>';
const TWO_47 = `${WEATHER_CALL_47}${TIME_CALL_47}`;

const BOTH_CALLS = [
  { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
  { name: 'get_time', arguments: '{"timezone": "CET"}' },
];

const FAMILY = [
  'GLM-4.6',
  'GLM-4.7-Flash',
  'Spark2.5',
  'inclusionai-ling-3.0-flash',
  'poolside-Laguna-S-2.1',
  'poolside-Laguna-XS-2.1',
  'poolside-Laguna-XS.2',
];

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
    },
    required: ['query'],
  },
};

describe('glm tool calls', () => {
  test('is recognised from the templates that write it, and from no other', () => {
    assert.deepEqual(templatesMatching(glm), [...FAMILY].sort());
  });

  test('one call, with the arguments as JSON', () => {
    for (const text of [WEATHER_CALL, WEATHER_CALL_47]) {
      const out = parseChecked(glm, text);
      assert.equal(out.content, '');
      assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
    }
  });

  test('two parallel calls', () => {
    assert.deepEqual(parseChecked(glm, TWO).calls, BOTH_CALLS);
    assert.deepEqual(parseChecked(glm, TWO_47).calls, BOTH_CALLS);
  });

  test('text before a call is content', () => {
    const out = parseChecked(glm, `Let me look that up.\n${WEATHER_CALL}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
    assert.equal(parseChecked(glm, `Let me look that up.${WEATHER_CALL_47}`).content, 'Let me look that up.');
  });

  test('a tag in the reasoning is not a call', () => {
    const out = parseChecked(glm, `<think>maybe <tool_call>get_time would help</think>\n${WEATHER_CALL}`);
    assert.equal(out.content, '<think>maybe <tool_call>get_time would help</think>');
    assert.equal(out.calls.length, 1);
    // GLM-4.7's prompt opens the reasoning.
    const continued = parseChecked(glm, `maybe <tool_call>get_time</think>${TIME_CALL_47}`, { inReasoning: true, tools: [WEATHER, TIME] });
    assert.equal(continued.content, 'maybe <tool_call>get_time</think>');
    assert.deepEqual(continued.calls, [BOTH_CALLS[1]]);
  });

  test('text without a call is all content', () => {
    assert.deepEqual(parseChecked(glm, 'It is sunny in <b>Paris</b>.'), { content: 'It is sunny in <b>Paris</b>.', calls: [] });
  });

  test('values are typed by the schema: strings as text, the rest as JSON', () => {
    const text =
      '<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>42 "quoted"\n</arg_value>\n<arg_key>limit</arg_key>\n<arg_value>10</arg_value>\n' +
      '<arg_key>exact</arg_key>\n<arg_value>true</arg_value>\n<arg_key>tags</arg_key>\n<arg_value>["a", "b"]</arg_value>\n' +
      '<arg_key>other</arg_key>\n<arg_value>not json</arg_value>\n</tool_call>';
    const out = parseChecked(glm, text, { tools: [SEARCH] });
    assert.equal(
      out.calls[0].arguments,
      '{"query": "42 \\"quoted\\"\\n", "limit": 10, "exact": true, "tags": ["a", "b"], "other": "not json"}',
    );
    const none = parseChecked(glm, '<tool_call>search\n</tool_call>', { tools: [SEARCH] });
    assert.deepEqual(none.calls, [{ name: 'search', arguments: '{}' }]);
    assert.deepEqual(parseChecked(glm, '<tool_call>search</tool_call>', { tools: [SEARCH] }).calls, none.calls);
  });

  test('arguments grow one parameter at a time, and close with the call', () => {
    const partial = (text: string) => parseOutput(glm, text, { final: false, tools: [WEATHER] }).calls;
    assert.deepEqual(partial('<tool_call>get_wea'), []);
    assert.deepEqual(partial('<tool_call>get_weather<arg_key>ci'), [{ name: 'get_weather', arguments: '' }]);
    assert.deepEqual(
      partial('<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>3'),
      [{ name: 'get_weather', arguments: '{"city": "Paris"' }],
    );
    assert.deepEqual(partial(WEATHER_CALL), [BOTH_CALLS[0]]);
  });

  test('a call cut short keeps its closed parameters, unclosed; a tag with no call is text', () => {
    checkCutCalls(
      glm,
      [
        [
          '<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>',
          'get_weather',
          '{"city": "Paris", "days": ',
        ],
        // Cut inside a value: the parameter as far as it goes (a string without its closing quote).
        ['<tool_call>get_weather<arg_key>city</arg_key><arg_value>Par', 'get_weather', '{"city": "Par'],
        [
          '<tool_call>get_weather<arg_key>city</arg_key><arg_value>Paris</arg_value><arg_key>days</arg_key><arg_value>3</arg_va',
          'get_weather',
          '{"city": "Paris", "days": 3',
        ],
        ['<tool_call>get_weather\n', 'get_weather', ''],
      ],
      ['Use <tool_call>', 'A <tool_call>get_wea'],
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
    const grammar = glm.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    for (const name of FAMILY) {
      const rendered = ChatTemplate.compile(chatTemplate(name), { bosToken: '<s>', eosToken: '</s>' }).render({
        messages,
        tools,
        addGenerationPrompt: false,
      });
      const turn = rendered.slice(rendered.indexOf('Let me check.'), rendered.lastIndexOf('</tool_call>') + '</tool_call>'.length);
      const out = parseChecked(glm, turn);
      assert.equal(out.content, 'Let me check.', name);
      assert.deepEqual(out.calls, BOTH_CALLS, name);
      assert.ok(grammarAccepts(grammar, turn.slice(turn.indexOf('<tool_call>'))), name);
    }
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = glm.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    for (const text of [WEATHER_CALL, TWO, WEATHER_CALL_47, TWO_47]) assert.ok(grammarAccepts(grammar, text), text);
    assert.ok(!grammarAccepts(grammar, WEATHER_CALL.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, WEATHER_CALL_47.replace('3', '9')));
    assert.ok(
      !grammarAccepts(grammar, WEATHER_CALL.replace('<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n', '')),
      'a required parameter left out',
    );
    assert.ok(!grammarAccepts(glm.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    assert.ok(!grammarAccepts(glm.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO_47));
  });

  test('the grammar writes string values as text, other values as JSON, optional parameters optionally', () => {
    const grammar = glm.callsGrammar([SEARCH], { min: 1, max: 1 });
    const call = (parameters: string) => `<tool_call>search${parameters}</tool_call>`;
    const parameter = (key: string, value: string) => `<arg_key>${key}</arg_key><arg_value>${value}</arg_value>`;
    assert.ok(grammarAccepts(grammar, call(parameter('query', 'two\nlines with <b>tags</b>'))));
    assert.ok(grammarAccepts(grammar, call(parameter('query', '') + parameter('exact', 'false'))));
    assert.ok(
      grammarAccepts(
        grammar,
        call(parameter('query', 'x') + parameter('limit', '5') + parameter('exact', 'true') + parameter('tags', '["a"]')),
      ),
    );
    assert.ok(!grammarAccepts(grammar, call(parameter('query', 'a</arg_value>'))), 'the closing tag inside a string value');
    assert.ok(!grammarAccepts(grammar, call(parameter('query', 'x') + parameter('limit', 'five'))));
    assert.ok(!grammarAccepts(grammar, call(parameter('exact', 'true') + parameter('query', 'x'))), 'parameters out of order');
    assert.ok(!grammarAccepts(grammar, call(parameter('limit', '5'))), 'the required parameter missing');
    const text = call(parameter('query', 'x') + parameter('tags', '["a"]'));
    assert.deepEqual(parseChecked(glm, text, { tools: [SEARCH] }).calls, [{ name: 'search', arguments: '{"query": "x", "tags": ["a"]}' }]);
  });
});
