// Granite 3.x: `<|tool_call|>` then a JSON list of call objects. Granite 4 writes Hermes' tags.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, type ChatMessage } from '../../src/chat/template.js';
import { granite } from '../../src/chat/tools/formats/granite.js';
import { hermes } from '../../src/chat/tools/formats/hermes.js';
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

const ONE = '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]';
const TWO =
  '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}, {"name": "get_time", "arguments": {"timezone": "CET"}}]';

const TWO_CALLS = [
  { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
  { name: 'get_time', arguments: '{"timezone": "CET"}' },
];

describe('granite tool calls', () => {
  test('is recognised from the Granite 3.3 template only; Granite 4 templates are Hermes', () => {
    assert.deepEqual(templatesMatching(granite), ['ibm-granite-granite-3.3-2B-Instruct']);
    for (const name of ['ibm-granite-granite-4.0', 'ibm-granite-granite-4.1']) assert.ok(hermes.matches(chatTemplate(name)), name);
  });

  test('the template asks for <|tool_call|> and a JSON list', () => {
    const template = ChatTemplate.compile(chatTemplate('ibm-granite-granite-3.3-2B-Instruct'), {
      bosToken: '',
      eosToken: '<|end_of_text|>',
    });
    const prompt = template.render({
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [toolDefinition(WEATHER), toolDefinition(TIME)],
      addGenerationPrompt: true,
      now: new Date('2025-01-01T00:00:00Z'),
    });
    assert.ok(prompt.includes('respond only with <|tool_call|> followed by a JSON list of tools used'));
    assert.ok(prompt.endsWith('<|start_of_role|>assistant<|end_of_role|>'));
  });

  test('the template does not render calls in the history (no round trip to check)', () => {
    const template = ChatTemplate.compile(chatTemplate('ibm-granite-granite-3.3-2B-Instruct'), {
      bosToken: '',
      eosToken: '<|end_of_text|>',
    });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } }],
      },
    ];
    const text = template.render({
      messages,
      tools: [toolDefinition(WEATHER)],
      addGenerationPrompt: false,
      now: new Date('2025-01-01T00:00:00Z'),
    });
    assert.ok(text.endsWith('<|start_of_role|>assistant<|end_of_role|><|end_of_text|>\n'));
    assert.ok(!text.includes('"city": "Paris"'));
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(granite, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [TWO_CALLS[0]]);
  });

  test('two parallel calls, compact or spread over lines', () => {
    assert.deepEqual(parseChecked(granite, TWO).calls, TWO_CALLS);
    const spread =
      '<|tool_call|> [\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},\n{"name": "get_time", "arguments": {"timezone": "CET"}}\n]';
    assert.deepEqual(parseChecked(granite, spread), { content: '', calls: TWO_CALLS });
  });

  test('a lone call object, and arguments before the name', () => {
    assert.deepEqual(parseChecked(granite, '<|tool_call|>{"name": "get_time", "arguments": {"timezone": "CET"}}').calls, [TWO_CALLS[1]]);
    assert.deepEqual(parseChecked(granite, '<|tool_call|>[{"arguments": {"timezone": "CET"}, "name": "get_time"}]').calls, [TWO_CALLS[1]]);
  });

  test('text before a call is content', () => {
    const out = parseChecked(granite, `Let me look that up.\n\n${ONE}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('thinking and response sections: the thoughts stay content, the response tags go', () => {
    const out = parseChecked(granite, '<think>Paris, 3 days. <|tool_call|> maybe.</think><response>It is sunny in Paris.</response>');
    assert.deepEqual(out, { content: '<think>Paris, 3 days. <|tool_call|> maybe.</think>It is sunny in Paris.', calls: [] });
    const withCall = parseChecked(granite, `<think>Need the weather.</think>\n<response>Checking.</response>\n${ONE}`);
    assert.equal(withCall.content, '<think>Need the weather.</think>\nChecking.');
    assert.deepEqual(withCall.calls, [TWO_CALLS[0]]);
    assert.deepEqual(granite.reasoning, { start: '<think>', end: '</think>' });
  });

  test('text without a call is all content', () => {
    const text = 'It is sunny in <b>Paris</b> [really] <|no|>.';
    assert.deepEqual(parseChecked(granite, text), { content: text, calls: [] });
  });

  test('a call cut short stays a call; a marker with nothing parsable after it is content', () => {
    checkCutCalls(
      granite,
      [
        ['<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Pa', 'get_weather', '{"city": "Pa'],
        ['<|tool_call|>[{"name": "get_weather", ', 'get_weather', ''],
      ],
      ['Hmm <|tool_call|>', '<|tool_call|> nothing'],
    );
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = granite.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(grammarAccepts(grammar, '<|tool_call|>[{"name": "get_weather", "arguments": {"city":"Paris","days":3}}]'));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, ONE.replace('"days": 3', '"days": 9')));
    assert.ok(!grammarAccepts(granite.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    assert.ok(TWO.startsWith(granite.triggers[0]));
  });
});
