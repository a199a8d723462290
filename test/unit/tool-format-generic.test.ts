// The generic format of templates that know no tools: TGI's `{"function": {"_name": ...}}` object.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generic } from '../../src/chat/tools/formats/generic.js';
import { toolGrammar } from '../../src/chat/tools/grammar.js';
import { checkCutCalls, grammarAccepts, parseChecked, TIME, WEATHER } from '../helpers/tool-formats.js';

const ONE = '{"function": {"_name": "get_weather", "city": "Paris", "days": 3}}';
const TWO = `${ONE}\n{"function": {"_name": "get_time", "timezone": "CET"}}`;

describe('generic JSON tool calls', () => {
  test('one call: the arguments are the members beside _name', () => {
    assert.deepEqual(parseChecked(generic, ONE), {
      content: '',
      calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }],
    });
  });

  test('two parallel calls, one per line', () => {
    const out = parseChecked(generic, TWO);
    assert.deepEqual(out.calls, [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
      { name: 'get_time', arguments: '{"timezone": "CET"}' },
    ]);
  });

  test('text before a call is content; the shape the tool prompt describes is read too', () => {
    const out = parseChecked(generic, 'Sure. {"name": "get_time", "parameters": {"timezone": "UTC"}}');
    assert.equal(out.content, 'Sure.');
    assert.deepEqual(out.calls, [{ name: 'get_time', arguments: '{"timezone": "UTC"}' }]);
  });

  test('JSON that is not a call stays content', () => {
    assert.deepEqual(parseChecked(generic, 'The data: {"a": [1, 2]} and {"b": 3}'), {
      content: 'The data: {"a": [1, 2]} and {"b": 3}',
      calls: [],
    });
  });

  test('a call cut short keeps the arguments written so far, unclosed', () => {
    checkCutCalls(generic, [
      ['{"function": {"_name": "get_weather", "city": "Paris", "da', 'get_weather', '{"city": "Paris", "da'],
      // A complete member is not a complete object: a required one may be missing.
      ['{"function": {"_name": "get_weather", "city": "Paris",', 'get_weather', '{"city": "Paris",'],
      // Cut inside a number's fraction: the number may still go on, and the text stays as written.
      ['{"function": { "_name" : "get_weather" , "city" : "Tokyo" ,"days" : 1.', 'get_weather', '{"city" : "Tokyo" ,"days" : 1.'],
      ['{"function": {"_name": "get_weather", ', 'get_weather', ''],
      ['{"name": "get_time", "parameters": ', 'get_time', ''],
    ]);
    // Closed without arguments: the call had none.
    assert.deepEqual(parseChecked(generic, '{"function": {"_name": "get_time"}}').calls, [{ name: 'get_time', arguments: '{}' }]);
  });

  test('with tool_choice auto, a call opens the answer; a text answer may hold any JSON', () => {
    const grammar = toolGrammar(generic, [WEATHER, TIME], { kind: 'auto' }, { parallel: false });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, TWO));
    assert.ok(grammarAccepts(grammar, 'Here it is: {"function": {"x": 1}}'));
    assert.ok(grammarAccepts(grammar, ''));
  });

  test('the grammar writes the call object with _name first and the arguments under their schema', () => {
    const grammar = generic.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, '{"function": {"_name": "get_weather", "days": 3}}'));
    assert.ok(!grammarAccepts(generic.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
  });
});
