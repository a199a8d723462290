// The Llama 3.1 / 3.2 / 3.3 format: a JSON call object `{"name": ..., "parameters": {...}}`,
// possibly after `<|python_tag|>`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { llama3 } from '../../src/chat/tools/formats/llama3.js';
import { toolGrammar } from '../../src/chat/tools/grammar.js';
import { ChatTemplate } from '../../src/chat/template.js';
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

const ONE = '{"name": "get_weather", "parameters": {"city": "Paris", "days": 3}}';
const SECOND = '{"name": "get_time", "parameters": {"timezone": "CET"}}';
const TWO = `${ONE}; ${SECOND}`;

describe('llama3 tool calls', () => {
  test('is recognised from the Llama 3.x templates only', () => {
    assert.deepEqual(templatesMatching(llama3), [
      'meta-llama-Llama-3.1-8B-Instruct',
      'meta-llama-Llama-3.2-3B-Instruct',
      'meta-llama-Llama-3.3-70B-Instruct',
    ]);
    // Firefunction v2 (Llama 3 based) writes ` functools[...]`; the R1 distill writes DeepSeek's format.
    assert.ok(!llama3.matches(chatTemplate('fireworks-ai-llama-3-firefunction-v2')));
    assert.ok(!llama3.matches(chatTemplate('deepseek-ai-DeepSeek-R1-Distill-Llama-8B')));
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(llama3, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('the python tag before a call is not content', () => {
    const out = parseChecked(llama3, `<|python_tag|>${ONE}`);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('two parallel calls, separated by `; `, a newline, or python tags', () => {
    for (const text of [TWO, `${ONE}\n${SECOND}`, `${ONE};${SECOND}`, `<|python_tag|>${ONE}; <|python_tag|>${SECOND}`, `${ONE}${SECOND}`]) {
      const out = parseChecked(llama3, text);
      assert.equal(out.content, '', text);
      assert.deepEqual(out.calls, [
        { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
        { name: 'get_time', arguments: '{"timezone": "CET"}' },
      ]);
    }
  });

  test('"arguments" is read like "parameters", and other key orders and spacing', () => {
    const out = parseChecked(llama3, '{"type": "function", "name": "get_time", "arguments": {"timezone": "CET"}}');
    assert.deepEqual(out.calls, [{ name: 'get_time', arguments: '{"timezone": "CET"}' }]);
    const spaced = parseChecked(llama3, '{\n  "parameters": {"timezone": "UTC"},\n  "name": "get_time"\n}');
    assert.deepEqual(spaced.calls, [{ name: 'get_time', arguments: '{"timezone": "UTC"}' }]);
  });

  test('text before a call is content', () => {
    const out = parseChecked(llama3, `Let me look that up.\n\n${ONE}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('JSON that names no tool is content', () => {
    const text = 'A person: {"name": "Bob", "friends": [{"name": "get_time"}]} and code { return 1; }.';
    assert.deepEqual(parseChecked(llama3, text), { content: text, calls: [] });
    const plain = 'It is sunny in <b>Paris</b>.';
    assert.deepEqual(parseChecked(llama3, plain), { content: plain, calls: [] });
  });

  test('without the request tools, any name is a call', () => {
    const out = parseChecked(llama3, '{"name": "lookup", "parameters": {"q": 1}}', {});
    assert.deepEqual(out.calls, [{ name: 'lookup', arguments: '{"q": 1}' }]);
  });

  test('a built-in tool call stays content', () => {
    const text = '<|python_tag|>brave_search.call(query="weather in Paris")';
    assert.deepEqual(parseChecked(llama3, text), { content: text, calls: [] });
  });

  test('a call cut short keeps its name and the arguments written, none before they began', () => {
    checkCutCalls(llama3, [
      ['{"name": "get_weather", "parameters": {"city": "Par', 'get_weather', '{"city": "Par'],
      ['{"name": "get_weather", ', 'get_weather', ''],
    ]);
  });

  test('reads back the call the template renders', () => {
    for (const name of ['meta-llama-Llama-3.1-8B-Instruct', 'meta-llama-Llama-3.2-3B-Instruct', 'meta-llama-Llama-3.3-70B-Instruct']) {
      const template = ChatTemplate.compile(chatTemplate(name), { bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>' });
      const rendered = template.render({
        messages: [
          { role: 'user', content: 'Weather in Paris for 3 days?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } }],
          },
        ],
        tools: [WEATHER, TIME].map(toolDefinition),
        addGenerationPrompt: false,
      });
      const header = '<|start_header_id|>assistant<|end_header_id|>\n\n';
      const turn = rendered.slice(rendered.lastIndexOf(header) + header.length, rendered.lastIndexOf('<|eot_id|>'));
      assert.equal(turn, ONE, name);
      assert.deepEqual(parseChecked(llama3, turn).calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }], name);
    }
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = llama3.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, `<|python_tag|>${ONE}`));
    assert.ok(grammarAccepts(grammar, '{"name": "get_weather", "parameters": {"city":"Paris","days":3}}'));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(llama3.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    assert.ok([...llama3.triggers, ...(llama3.openingTriggers ?? [])].some((trigger) => ONE.startsWith(trigger)));
  });

  test('with tool_choice auto, a call opens the answer or follows <|python_tag|>; JSON inside a text answer is free', () => {
    const grammar = toolGrammar(llama3, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(grammar, 'It is sunny.'));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, ` \n${ONE.replace('Paris', 'Rome')}`));
    assert.ok(grammarAccepts(grammar, 'As JSON: {"name": "Bob", "age": 3}'));
    assert.ok(grammarAccepts(grammar, `Let me look that up.<|python_tag|>${ONE}`));
    assert.ok(!grammarAccepts(grammar, `Let me look that up.<|python_tag|>${ONE.replace('Paris', 'Rome')}`));
  });
});
