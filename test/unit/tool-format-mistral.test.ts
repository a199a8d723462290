// Mistral's formats: `[TOOL_CALLS]` then a JSON list of calls (v3 tokenizers, Mistral-Nemo), or
// `[TOOL_CALLS]name[ARGS]{...}` for each call (v11 and later: Small 3.2, Devstral, Ministral 3).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, type ChatMessage } from '../../src/chat/template.js';
import { MISTRAL_FORMATS, mistral, mistralReasoning, mistralV11, mistralV11Reasoning } from '../../src/chat/tools/formats/mistral.js';
import {
  chatTemplate,
  checkCutCalls,
  grammarAccepts,
  parseChecked,
  templateNames,
  TIME,
  toolDefinition,
  WEATHER,
} from '../helpers/tool-formats.js';

const ARRAY_ONE = '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]';
const ARRAY_TWO =
  '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}, "id": "abcDEF123"}, {"name": "get_time", "arguments": {"timezone": "CET"}, "id": "XYZ987abc"}]';
const NAMED_ONE = '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris", "days": 3}';
const NAMED_TWO = `${NAMED_ONE}[TOOL_CALLS]get_time[ARGS]{"timezone": "CET"}`;
const WITH_IDS =
  '[TOOL_CALLS]get_weather[CALL_ID]abcDEF123[ARGS]{"city": "Paris", "days": 3}[TOOL_CALLS]get_time[CALL_ID]XYZ987abc[ARGS]{"timezone": "CET"}';

const TWO_CALLS = [
  { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
  { name: 'get_time', arguments: '{"timezone": "CET"}' },
];

/** The assistant turn of a conversation with two calls, as the template renders it (end token cut). */
function renderedCalls(name: string, assistant: Partial<ChatMessage> = {}): string {
  const template = ChatTemplate.compile(chatTemplate(name), { bosToken: '<s>', eosToken: '</s>' });
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Weather in Paris for 3 days, and the time in CET?' },
    {
      role: 'assistant',
      content: '',
      tool_calls: [
        { id: 'abcDEF123', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } },
        { id: 'XYZ987abc', type: 'function', function: { name: 'get_time', arguments: { timezone: 'CET' } } },
      ],
      ...assistant,
    },
  ];
  const text = template.render({ messages, tools: [toolDefinition(WEATHER), toolDefinition(TIME)], addGenerationPrompt: false });
  const start = text.lastIndexOf('[/INST]') + '[/INST]'.length;
  assert.ok(text.endsWith('</s>'), text.slice(-80));
  return text.slice(start, -'</s>'.length);
}

describe('mistral tool calls', () => {
  test('each template that writes [TOOL_CALLS] gets exactly one of the formats', () => {
    const byFormat = new Map<string, string[]>();
    for (const name of templateNames()) {
      const matching = MISTRAL_FORMATS.filter((f) => f.matches(chatTemplate(name)));
      assert.ok(matching.length <= 1, `${name}: ${matching.map((f) => f.id).join(', ')}`);
      if (matching.length === 1) byFormat.set(matching[0].id, [...(byFormat.get(matching[0].id) ?? []), name]);
    }
    assert.deepEqual(Object.fromEntries(byFormat), {
      mistral: ['mistralai-Mistral-Nemo-Instruct-2407'],
      'mistral-v11': ['Mistral-Small-3.2-24B-Instruct-2506', 'unsloth-mistral-Devstral-Small-2507'],
      'mistral-v11-reasoning': ['mistralai-Ministral-3-14B-Reasoning-2512'],
    });
    assert.ok(mistralReasoning.matches('{{ "[THINK]" }}x{{ "[/THINK]" }}{{ "[TOOL_CALLS][" }}'));
  });

  test('reasoning only where the template has [THINK]', () => {
    assert.equal(mistral.reasoning, undefined);
    assert.equal(mistralV11.reasoning, undefined);
    assert.deepEqual(mistralV11Reasoning.reasoning, { start: '[THINK]', end: '[/THINK]' });
    assert.deepEqual(mistralReasoning.reasoning, { start: '[THINK]', end: '[/THINK]' });
  });

  test('one call, with the exact argument text (both forms, any format)', () => {
    for (const format of MISTRAL_FORMATS) {
      for (const text of [ARRAY_ONE, NAMED_ONE]) {
        const out = parseChecked(format, text);
        assert.equal(out.content, '');
        assert.deepEqual(out.calls, [TWO_CALLS[0]], `${format.id}: ${text}`);
      }
    }
  });

  test('two parallel calls: one list, or [TOOL_CALLS] before each, with or without ids', () => {
    for (const text of [
      ARRAY_TWO,
      NAMED_TWO,
      WITH_IDS,
      '[TOOL_CALLS] [\n  {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},\n  {"name": "get_time", "arguments": {"timezone": "CET"}}\n]',
    ]) {
      assert.deepEqual(parseChecked(mistral, text).calls, TWO_CALLS, text);
      assert.deepEqual(parseChecked(mistralV11, text).calls, TWO_CALLS, text);
    }
  });

  test('arguments before the name, and arguments right after the name', () => {
    const out = parseChecked(mistral, '[TOOL_CALLS][{"arguments": {"timezone": "CET"}, "name": "get_time"}]');
    assert.deepEqual(out.calls, [TWO_CALLS[1]]);
    assert.deepEqual(parseChecked(mistralV11, '[TOOL_CALLS]get_time{"timezone": "CET"}').calls, [TWO_CALLS[1]]);
  });

  test('text before a call is content', () => {
    for (const text of [ARRAY_ONE, NAMED_ONE]) {
      const out = parseChecked(mistralV11, `Let me look that up.\n\n${text}`);
      assert.equal(out.content, 'Let me look that up.');
      assert.equal(out.calls.length, 1);
    }
  });

  test('text without a call is all content, brackets included', () => {
    const text = 'Use [INST] tags [like this] and {braces}; [TOOL_ is not a marker.';
    assert.deepEqual(parseChecked(mistralV11, text), { content: text, calls: [] });
  });

  test('a call in the reasoning is not a call', () => {
    const out = parseChecked(mistralV11Reasoning, `[THINK]maybe ${NAMED_ONE} would help[/THINK]Checking.${NAMED_TWO}`);
    assert.equal(out.content, `[THINK]maybe ${NAMED_ONE} would help[/THINK]Checking.`);
    assert.deepEqual(out.calls, TWO_CALLS);
  });

  test('a call cut short stays a call; a marker with nothing after it is content', () => {
    checkCutCalls(mistralV11, [
      ['[TOOL_CALLS]get_weather[ARGS]{"city": "Par', 'get_weather', '{"city": "Par'],
      ['[TOOL_CALLS]get_time[CALL_ID]abc', 'get_time', ''],
      ['[TOOL_CALLS]get_weather[ARGS]', 'get_weather', ''],
    ]);
    checkCutCalls(
      mistral,
      [
        ['[TOOL_CALLS][{"name": "get_time", ', 'get_time', ''],
        ['[TOOL_CALLS][{"name": "get_time", "arguments": {"timezone": "C', 'get_time', '{"timezone": "C'],
      ],
      ['Done. [TOOL_CALLS]', '[TOOL_CALLS][]', '[TOOL_CALLS] sorry, no'],
    );
  });

  test('round trip: Mistral-Nemo renders the list form with ids', () => {
    const text = renderedCalls('mistralai-Mistral-Nemo-Instruct-2407');
    assert.equal(text, ARRAY_TWO);
    assert.deepEqual(parseChecked(mistral, text).calls, TWO_CALLS);
    assert.ok(grammarAccepts(mistral.callsGrammar([WEATHER, TIME], { min: 1, max: null }), text));
  });

  test('round trip: Mistral Small 3.2 renders [CALL_ID]s', () => {
    const text = renderedCalls('Mistral-Small-3.2-24B-Instruct-2506');
    assert.equal(text, WITH_IDS);
    assert.deepEqual(parseChecked(mistralV11, text).calls, TWO_CALLS);
    assert.ok(grammarAccepts(mistralV11.callsGrammar([WEATHER, TIME], { min: 1, max: null }), text));
  });

  test('round trip: Devstral renders content, then [TOOL_CALLS]name[ARGS] for each call', () => {
    const text = renderedCalls('unsloth-mistral-Devstral-Small-2507', { content: 'Let me check.' });
    assert.equal(text, `Let me check.${NAMED_TWO}`);
    const out = parseChecked(mistralV11, text);
    assert.equal(out.content, 'Let me check.');
    assert.deepEqual(out.calls, TWO_CALLS);
  });

  test('round trip: Ministral 3 Reasoning renders its thinking, content and calls', () => {
    const content = [
      { type: 'thinking', thinking: 'Two tools, two calls.' },
      { type: 'text', text: 'Checking both.' },
    ];
    const template = ChatTemplate.compile(chatTemplate('mistralai-Ministral-3-14B-Reasoning-2512'), { bosToken: '<s>', eosToken: '</s>' });
    const rendered = template.render({
      messages: [
        { role: 'user', content: 'Weather in Paris for 3 days, and the time in CET?' },
        {
          role: 'assistant',
          content: content as unknown as string,
          tool_calls: [
            { id: 'abcDEF123', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } },
            { id: 'XYZ987abc', type: 'function', function: { name: 'get_time', arguments: { timezone: 'CET' } } },
          ],
        },
      ],
      tools: [toolDefinition(WEATHER), toolDefinition(TIME)],
      addGenerationPrompt: false,
    });
    const text = rendered.slice(rendered.lastIndexOf('[/INST]') + '[/INST]'.length, -'</s>'.length);
    assert.equal(text, `[THINK]Two tools, two calls.[/THINK]Checking both.${NAMED_TWO}`);
    const out = parseChecked(mistralV11Reasoning, text);
    assert.equal(out.content, '[THINK]Two tools, two calls.[/THINK]Checking both.');
    assert.deepEqual(out.calls, TWO_CALLS);
  });

  test('the list grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = mistral.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    const compact =
      '[TOOL_CALLS][{"name":"get_weather","arguments":{"city":"Paris","days":3}},{"name":"get_time","arguments":{"timezone":"CET"}}]';
    assert.ok(grammarAccepts(grammar, ARRAY_ONE));
    assert.ok(grammarAccepts(grammar, ARRAY_TWO));
    assert.ok(!grammarAccepts(grammar, compact), 'calls are separated by ", " as the template writes them');
    assert.ok(
      grammarAccepts(grammar, ARRAY_ONE.replace('"arguments": {"city": "Paris", "days": 3}', '"arguments": {"city":"Paris","days":3}')),
    );
    assert.ok(!grammarAccepts(grammar, ARRAY_ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, ARRAY_TWO.replace('"abcDEF123"', '"abc"')), 'ids are nine letters and digits');
    assert.ok(!grammarAccepts(mistral.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), ARRAY_TWO));
    assert.ok(grammarAccepts(mistral.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), ARRAY_ONE));
    assert.ok(grammarAccepts(mistralReasoning.callsGrammar([WEATHER, TIME], { min: 1, max: null }), ARRAY_TWO));
  });

  test('the [ARGS] grammar takes the calls the parser reads, and refuses a bad argument', () => {
    for (const format of [mistralV11, mistralV11Reasoning]) {
      const grammar = format.callsGrammar([WEATHER, TIME], { min: 1, max: null });
      assert.ok(grammarAccepts(grammar, NAMED_ONE));
      assert.ok(grammarAccepts(grammar, NAMED_TWO));
      assert.ok(grammarAccepts(grammar, WITH_IDS));
      assert.ok(grammarAccepts(grammar, '[TOOL_CALLS]get_weather[ARGS]{"city":"Paris","days":3}'));
      assert.ok(!grammarAccepts(grammar, NAMED_ONE.replace('Paris', 'Rome')));
      assert.ok(!grammarAccepts(grammar, NAMED_ONE.replace('get_weather', 'get_wether')));
      assert.ok(!grammarAccepts(format.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), NAMED_TWO));
      assert.ok(grammarAccepts(format.callsGrammar([WEATHER, TIME], { min: 2, max: 2 }), NAMED_TWO));
      for (const trigger of format.triggers) assert.ok(NAMED_ONE.startsWith(trigger));
    }
  });
});
