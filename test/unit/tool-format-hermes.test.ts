// The Hermes / Qwen 2.5 format: `<tool_call>` tags around a JSON call object.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hermes } from '../../src/chat/tools/formats/hermes.js';
import { chatTemplate, checkCutCalls, grammarAccepts, parseChecked, TIME, WEATHER } from '../helpers/tool-formats.js';

const ONE = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>';
const TWO = `${ONE}\n<tool_call>\n{"name": "get_time", "arguments": {"timezone": "CET"}}\n</tool_call>`;

describe('hermes tool calls', () => {
  test('is recognised from the templates that write it', () => {
    for (const name of [
      'Qwen-Qwen2.5-7B-Instruct',
      'NousResearch-Hermes-3-Llama-3.1-8B-tool_use',
      'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use',
      'Qwen-QwQ-32B',
    ]) {
      assert.ok(hermes.matches(chatTemplate(name)), name);
    }
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(hermes, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('two parallel calls', () => {
    const out = parseChecked(hermes, TWO);
    assert.deepEqual(
      out.calls.map((c) => c.name),
      ['get_weather', 'get_time'],
    );
    assert.equal(out.calls[1].arguments, '{"timezone": "CET"}');
  });

  test('text before a call is content', () => {
    const out = parseChecked(hermes, `Let me look that up.\n\n${ONE}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('a tag in the reasoning is not a call', () => {
    const out = parseChecked(hermes, `<think>maybe <tool_call> would help</think>\n\n${ONE}`);
    assert.equal(out.content, '<think>maybe <tool_call> would help</think>');
    assert.equal(out.calls.length, 1);
  });

  test('cut by the length limit: the arguments written so far, none before they began', () => {
    checkCutCalls(hermes, [
      ['<tool_call>\n{"name": "get_time", "arguments": {"timezone": "C', 'get_time', '{"timezone": "C'],
      ['<tool_call>\n{"name": "get_weather", ', 'get_weather', ''],
      ['<tool_call>\n{"name": "get_weather", "arguments": ', 'get_weather', ''],
      ['<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", ', 'get_weather', '{"city": "Paris", '],
    ]);
    // Closed without arguments: the call had none.
    assert.deepEqual(parseChecked(hermes, '<tool_call>\n{"name": "get_time"}\n</tool_call>').calls, [
      { name: 'get_time', arguments: '{}' },
    ]);
  });

  test('text without a call is all content', () => {
    assert.deepEqual(parseChecked(hermes, 'It is sunny in <b>Paris</b>.'), { content: 'It is sunny in <b>Paris</b>.', calls: [] });
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = hermes.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(hermes.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
  });
});
