// The Hermes / Qwen 2.5 format: `<tool_call>` tags around a JSON call object.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hermes } from '../../src/chat/tools/formats/hermes.js';
import { chatTemplate, grammarAccepts, parseChecked, TIME, WEATHER } from '../helpers/tool-formats.js';

const ONE = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>';
const TWO = `${ONE}\n<tool_call>\n{"name": "get_time", "arguments": {"timezone": "CET"}}\n</tool_call>`;

describe('hermes tool calls', () => {
  test('is recognised from the templates that write it', () => {
    for (const name of ['Qwen-Qwen2.5-7B-Instruct', 'NousResearch-Hermes-3-Llama-3.1-8B-tool_use', 'NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use', 'Qwen-QwQ-32B']) {
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
    assert.deepEqual(out.calls.map((c) => c.name), ['get_weather', 'get_time']);
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

  test('a call cut short keeps the arguments written so far', () => {
    const out = parseChecked(hermes, '<tool_call>\n{"name": "get_time", "arguments": {"timezone": "C');
    assert.deepEqual(out.calls, [{ name: 'get_time', arguments: '{"timezone": "C' }]);
  });

  // Cut by the length limit, a call keeps the arguments the model wrote: none ('') before they began,
  // unclosed JSON (that does not parse) inside them; never an invented `{}` or a closed object.
  test('cut by the length limit: no arguments invented, none closed', () => {
    assert.deepEqual(parseChecked(hermes, '<tool_call>\n{"name": "get_weather", ').calls, [{ name: 'get_weather', arguments: '' }]);
    assert.deepEqual(parseChecked(hermes, '<tool_call>\n{"name": "get_weather", "arguments": ').calls, [{ name: 'get_weather', arguments: '' }]);
    const mid = parseChecked(hermes, '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", ').calls[0].arguments;
    assert.equal(mid, '{"city": "Paris", ');
    assert.throws(() => JSON.parse(mid));
    // Closed without arguments: the call had none.
    assert.deepEqual(parseChecked(hermes, '<tool_call>\n{"name": "get_time"}\n</tool_call>').calls, [{ name: 'get_time', arguments: '{}' }]);
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
