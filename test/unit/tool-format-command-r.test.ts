// The Cohere Command R formats: a JSON array of `{"tool_name", "parameters"}` objects, after
// `Action:` in a ```json fence (Command R / R+), or between `<|START_ACTION|>` and `<|END_ACTION|>`
// (Command R7B, Command A, Cohere2).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { commandR7b, commandRPlus } from '../../src/chat/tools/formats/command-r.js';
import { toolGrammar } from '../../src/chat/tools/grammar.js';
import { ChatTemplate, type ChatMessage } from '../../src/chat/template.js';
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

// The Command R+ template lists each parameter with its description.
function described(tool: ToolSpec): ToolSpec {
  const properties = tool.parameters.properties as Record<string, Record<string, unknown>>;
  const withDescriptions = Object.fromEntries(
    Object.entries(properties).map(([name, spec]) => [name, { ...spec, description: `The ${name}` }]),
  );
  return { ...tool, parameters: { ...tool.parameters, properties: withDescriptions } };
}

const CALLS: ChatMessage['tool_calls'] = [
  { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } },
  { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: { timezone: 'CET' } } },
];

function renderedTurn(name: string, content: string, after: string): string {
  const template = ChatTemplate.compile(chatTemplate(name), { bosToken: '<BOS_TOKEN>', eosToken: '<|END_OF_TURN_TOKEN|>' });
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Weather in Paris for 3 days, and the time in CET?' },
    { role: 'assistant', content, tool_calls: CALLS },
  ];
  const rendered = template.render({
    messages,
    tools: [described(WEATHER), described(TIME)].map(toolDefinition),
    addGenerationPrompt: false,
  });
  const start = rendered.indexOf('<|CHATBOT_TOKEN|>', rendered.indexOf('the time in CET?')) + '<|CHATBOT_TOKEN|>'.length;
  return rendered.slice(start, rendered.indexOf(after, start) + after.length);
}

const BOTH_CALLS = [
  { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
  { name: 'get_time', arguments: '{"timezone": "CET"}' },
];

describe('command-r-plus tool calls', () => {
  const ONE =
    'Action: ```json\n[\n    {\n        "tool_name": "get_weather",\n        "parameters": {"city": "Paris", "days": 3}\n    }\n]\n```';
  const TWO =
    'Action: ```json\n[\n    {\n        "tool_name": "get_weather",\n        "parameters": {"city": "Paris", "days": 3}\n    },\n    {\n        "tool_name": "get_time",\n        "parameters": {"timezone": "CET"}\n    }\n]\n```';

  test('is recognised from its template and no other', () => {
    assert.deepEqual(templatesMatching(commandRPlus), ['CohereForAI-c4ai-command-r-plus-tool_use']);
  });

  test('one call, with the exact argument text', () => {
    assert.deepEqual(parseChecked(commandRPlus, ONE), {
      content: '',
      calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }],
    });
    // Without the fence, and with the arguments indented.
    const bare = 'Action: [{"tool_name": "get_weather", "parameters": {\n    "city": "Lima",\n    "days": 1\n}}]';
    assert.deepEqual(parseChecked(commandRPlus, bare).calls, [
      { name: 'get_weather', arguments: '{\n    "city": "Lima",\n    "days": 1\n}' },
    ]);
  });

  test('two parallel calls', () => {
    assert.deepEqual(parseChecked(commandRPlus, TWO), { content: '', calls: BOTH_CALLS });
  });

  test('text before a call is content', () => {
    const out = parseChecked(commandRPlus, `I will look up the weather.\n${ONE}`);
    assert.equal(out.content, 'I will look up the weather.');
    assert.equal(out.calls.length, 1);
  });

  test('text without a call, and `Action:` not followed by a list, is content', () => {
    assert.deepEqual(parseChecked(commandRPlus, 'It is sunny in `Paris`.'), { content: 'It is sunny in `Paris`.', calls: [] });
    assert.deepEqual(parseChecked(commandRPlus, 'Action: none needed. It is sunny.'), {
      content: 'Action: none needed. It is sunny.',
      calls: [],
    });
    assert.deepEqual(parseChecked(commandRPlus, 'Action: ```python\nprint(1)\n```'), {
      content: 'Action: ```python\nprint(1)\n```',
      calls: [],
    });
  });

  test('the directly-answer pseudo-tool is not a call', () => {
    const text = 'Action: ```json\n[\n    {\n        "tool_name": "directly-answer",\n        "parameters": {}\n    }\n]\n```';
    assert.deepEqual(parseChecked(commandRPlus, text), { content: '', calls: [] });
  });

  test('cut by the length limit: the arguments written so far, none before they began', () => {
    const head = 'Action: ```json\n[\n    {\n        "tool_name": "get_weather",\n        "parameters": ';
    checkCutCalls(commandRPlus, [
      [`${head}{"city": "Pa`, 'get_weather', '{"city": "Pa'],
      [head, 'get_weather', ''],
      [`${head}{"city": "Paris", `, 'get_weather', '{"city": "Paris", '],
    ]);
  });

  test('the template renders calls the parser reads back', () => {
    const turn = renderedTurn('CohereForAI-c4ai-command-r-plus-tool_use', 'I will check both.', ']```');
    assert.ok(turn.startsWith('I will check both.\nAction:\n```json\n['), turn);
    const out = parseChecked(commandRPlus, turn);
    assert.equal(out.content, 'I will check both.');
    assert.deepEqual(
      out.calls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown })),
      [
        { name: 'get_weather', arguments: { city: 'Paris', days: 3 } },
        { name: 'get_time', arguments: { timezone: 'CET' } },
      ],
    );
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument and a second call when max is 1', () => {
    const grammar = commandRPlus.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(grammarAccepts(grammar, ONE.replace('Action: ', 'Action:\n').replace('\n]\n```', '\n]```')));
    assert.ok(grammarAccepts(grammar, ONE.replace('{"city": "Paris", "days": 3}', '{"city":"Paris","days":3}')));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(commandRPlus.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    const auto = toolGrammar(commandRPlus, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(auto, `I will look up the weather.\n${TWO}`));
    assert.ok(grammarAccepts(auto, 'It is sunny.'));
  });
});

describe('command-r7b tool calls', () => {
  const ONE =
    '<|START_ACTION|>[\n    {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris", "days": 3}}\n]<|END_ACTION|>';
  const TWO =
    '<|START_ACTION|>[\n    {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris", "days": 3}},\n    {"tool_call_id": "1", "tool_name": "get_time", "parameters": {"timezone": "CET"}}\n]<|END_ACTION|>';
  const PLAN = '<|START_THINKING|>I will look up the weather, then the time.<|END_THINKING|>';

  test('is recognised from its templates and no others', () => {
    assert.deepEqual(templatesMatching(commandR7b), ['Cohere2MoE', 'CohereForAI-c4ai-command-r7b-12-2024-tool_use']);
  });

  test('one call, with the exact argument text', () => {
    assert.deepEqual(parseChecked(commandR7b, ONE), {
      content: '',
      calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }],
    });
  });

  test('two parallel calls', () => {
    assert.deepEqual(parseChecked(commandR7b, TWO), { content: '', calls: BOTH_CALLS });
  });

  test('the plan is the reasoning; text before a call is content', () => {
    const out = parseChecked(commandR7b, `${PLAN}${TWO}`);
    assert.equal(out.content, PLAN);
    assert.deepEqual(out.calls, BOTH_CALLS);
    // The prompt opened the plan (Cohere2 with reasoning on).
    const open = parseChecked(commandR7b, `I will look up the weather.<|END_THINKING|>${ONE}`, {
      inReasoning: true,
      tools: [WEATHER, TIME],
    });
    assert.equal(open.calls.length, 1);
    const before = parseChecked(commandR7b, `Let me check.${ONE}`);
    assert.deepEqual(before, { content: 'Let me check.', calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }] });
  });

  test('a text answer is content without its framing', () => {
    assert.deepEqual(parseChecked(commandR7b, '<|START_RESPONSE|>It is sunny in <b>Paris</b>.<|END_RESPONSE|>'), {
      content: 'It is sunny in <b>Paris</b>.',
      calls: [],
    });
    assert.deepEqual(parseChecked(commandR7b, '<|START_TEXT|>It is sunny.<|END_TEXT|>'), { content: 'It is sunny.', calls: [] });
    assert.deepEqual(parseChecked(commandR7b, 'It is sunny.'), { content: 'It is sunny.', calls: [] });
  });

  test('cut by the length limit: the arguments written so far, none before they began; an unreadable action is content', () => {
    checkCutCalls(commandR7b, [
      [
        '<|START_ACTION|>[\n    {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Pa',
        'get_weather',
        '{"city": "Pa',
      ],
      ['<|START_ACTION|>[\n    {"tool_call_id": "0", "tool_name": "get_weather", ', 'get_weather', ''],
    ]);
    assert.deepEqual(parseChecked(commandR7b, '<|START_ACTION|>none<|END_ACTION|><|START_RESPONSE|>Hi.<|END_RESPONSE|>'), {
      content: '<|START_ACTION|>none<|END_ACTION|>Hi.',
      calls: [],
    });
  });

  for (const name of ['CohereForAI-c4ai-command-r7b-12-2024-tool_use', 'Cohere2MoE']) {
    test(`the ${name} template renders calls the parser reads back`, () => {
      const turn = renderedTurn(name, '', '<|END_ACTION|>');
      assert.ok(turn.includes('<|START_ACTION|>['), turn);
      const out = parseChecked(commandR7b, turn);
      assert.deepEqual(out.calls, BOTH_CALLS);
      // The action as rendered is what the grammar writes.
      const action = turn.slice(turn.indexOf('<|START_ACTION|>'));
      assert.ok(grammarAccepts(commandR7b.callsGrammar([WEATHER, TIME], { min: 1, max: null }), action), action);
    });
  }

  test('the grammar takes the calls the parser reads, and refuses a bad argument and a second call when max is 1', () => {
    const grammar = commandR7b.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(grammarAccepts(grammar, ONE.replace('{"city": "Paris", "days": 3}', '{"city":"Paris","days":3}').replace('"0"', '"12"')));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(commandR7b.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    // A forced call starts at once, or after the plan the prompt opened.
    const required = toolGrammar(commandR7b, [WEATHER, TIME], { kind: 'required' }, { parallel: true });
    assert.ok(grammarAccepts(required, TWO));
    const opened = toolGrammar(commandR7b, [WEATHER, TIME], { kind: 'required' }, { parallel: true, inReasoning: true });
    assert.ok(grammarAccepts(opened, `${PLAN.slice('<|START_THINKING|>'.length)}${TWO}`));
    // With auto, a plan may come first.
    const auto = toolGrammar(commandR7b, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(auto, `${PLAN}${ONE}`));
    assert.ok(grammarAccepts(auto, '<|START_RESPONSE|>It is sunny.<|END_RESPONSE|>'));
  });
});
