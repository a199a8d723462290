// MeetKai Functionary: v3.1 writes `<function=name>{json}</function>`, v3.2 writes `>>>` blocks
// whose recipient is `all` (text) or a function (JSON arguments).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionaryV31, functionaryV32 } from '../../src/chat/tools/formats/functionary.js';
import { toolGrammar } from '../../src/chat/tools/grammar.js';
import { ChatTemplate, type ChatToolCall } from '../../src/chat/template.js';
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

const WEATHER_ARGS = '{"city": "Paris", "days": 3}';
const TIME_ARGS = '{"timezone": "CET"}';
const BOTH = [
  { name: 'get_weather', arguments: WEATHER_ARGS },
  { name: 'get_time', arguments: TIME_ARGS },
];
const TOOL_DEFINITIONS = [WEATHER, TIME].map(toolDefinition);
const HEADER = '<|start_header_id|>assistant<|end_header_id|>\n\n';

/** The last assistant turn of a conversation rendered with `tool_calls`, without its header and end token. */
function renderedTurn(name: string, content: string | null, toolCalls: ChatToolCall[]): string {
  const template = ChatTemplate.compile(chatTemplate(name), { bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>' });
  const rendered = template.render({
    messages: [
      { role: 'user', content: 'Weather in Paris for 3 days, and the time in CET?' },
      { role: 'assistant', content, tool_calls: toolCalls },
    ],
    tools: TOOL_DEFINITIONS,
    addGenerationPrompt: false,
  });
  const turn = rendered.slice(rendered.lastIndexOf(HEADER) + HEADER.length);
  return turn.replace(/<\|(?:eot|eom)_id\|>$/, '');
}

describe('functionary v3.1 tool calls', () => {
  const ONE = `<function=get_weather>${WEATHER_ARGS}</function>`;
  const TWO = `${ONE}<function=get_time>${TIME_ARGS}</function>`;

  test('is recognised from its template, not from the <function=...><parameter=...> ones', () => {
    assert.deepEqual(templatesMatching(functionaryV31), ['meetkai-functionary-medium-v3.1']);
    assert.ok(!functionaryV31.matches(chatTemplate('Qwen3-Coder')));
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(functionaryV31, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: WEATHER_ARGS }]);
  });

  test('two parallel calls, back to back or on separate lines', () => {
    for (const text of [TWO, `${ONE}\n<function=get_time>${TIME_ARGS}</function>`]) {
      const out = parseChecked(functionaryV31, text);
      assert.equal(out.content, '');
      assert.deepEqual(out.calls, BOTH);
    }
  });

  test('text before a call is content', () => {
    const out = parseChecked(functionaryV31, `Let me look that up.\n${ONE}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('text without a call is all content, a tag that is no call too', () => {
    for (const text of ['It is sunny in <b>Paris</b>.', 'Write <function= name> in the docs.', 'a<function']) {
      assert.deepEqual(parseChecked(functionaryV31, text), { content: text, calls: [] });
    }
  });

  test('a call cut short keeps its name and the arguments written, none before they began', () => {
    checkCutCalls(functionaryV31, [
      ['<function=get_weather>{"city": "Pa', 'get_weather', '{"city": "Pa'],
      ['<function=get_time>', 'get_time', ''],
    ]);
  });

  test('reads back the calls the template renders', () => {
    const turn = renderedTurn('meetkai-functionary-medium-v3.1', null, [
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } },
      { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: { timezone: 'CET' } } },
    ]);
    assert.equal(turn, TWO);
    assert.deepEqual(parseChecked(functionaryV31, turn).calls, BOTH);
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = functionaryV31.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, ONE));
    assert.ok(grammarAccepts(grammar, TWO));
    assert.ok(grammarAccepts(grammar, '<function=get_weather>{"city":"Paris","days":3}</function>'));
    assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(functionaryV31.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), TWO));
    const auto = toolGrammar(functionaryV31, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(auto, `Let me look that up.\n${TWO}`));
    assert.ok(!grammarAccepts(auto, `Let me look that up.\n${ONE.replace('Paris', 'Rome')}`));
  });
});

describe('functionary v3.2 tool calls', () => {
  // The generation prompt ends with `>>>`: the output starts with the first recipient.
  const ONE = `get_weather\n${WEATHER_ARGS}`;
  const TWO = `${ONE}>>>get_time\n${TIME_ARGS}`;

  test('is recognised from its template only', () => {
    assert.deepEqual(templatesMatching(functionaryV32), ['meetkai-functionary-medium-v3.2']);
  });

  test('the generation prompt opens the first block', () => {
    const template = ChatTemplate.compile(chatTemplate('meetkai-functionary-medium-v3.2'), {
      bosToken: '<|begin_of_text|>',
      eosToken: '<|eot_id|>',
    });
    const prompt = template.render({ messages: [{ role: 'user', content: 'Hi' }], tools: TOOL_DEFINITIONS, addGenerationPrompt: true });
    assert.ok(prompt.endsWith(`${HEADER}>>>`));
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(functionaryV32, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: WEATHER_ARGS }]);
  });

  test('two parallel calls', () => {
    for (const text of [TWO, `${ONE}\n>>>get_time\n${TIME_ARGS}`]) {
      const out = parseChecked(functionaryV32, text);
      assert.equal(out.content, '');
      assert.deepEqual(out.calls, BOTH);
    }
  });

  test('text before a call is content (the `all` recipient)', () => {
    const out = parseChecked(functionaryV32, `all\nLet me look that up.\n>>>${TWO}`);
    assert.equal(out.content, 'Let me look that up.');
    assert.deepEqual(out.calls, BOTH);
  });

  test('a text answer is content', () => {
    assert.deepEqual(parseChecked(functionaryV32, 'all\nIt is sunny in <b>Paris</b>.'), {
      content: 'It is sunny in <b>Paris</b>.',
      calls: [],
    });
    // `>>>` not followed by a recipient line is text.
    const repl = 'all\nIn Python:\n>>> 1 + 1\n2';
    assert.deepEqual(parseChecked(functionaryV32, repl), { content: 'In Python:\n>>> 1 + 1\n2', calls: [] });
    // Without a recipient line (a prompt that did not end with `>>>`), it is all content.
    assert.deepEqual(parseChecked(functionaryV32, 'Sure, here it is.\nSunny.'), { content: 'Sure, here it is.\nSunny.', calls: [] });
  });

  test('output that starts with `>>>` (as a forced call writes it) reads the same', () => {
    const out = parseChecked(functionaryV32, `>>>${TWO}`);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, BOTH);
  });

  test('without the request tools, the first line names the recipient', () => {
    const out = parseChecked(functionaryV32, `lookup\n{"q": 1}>>>all\nDone.`, {});
    assert.deepEqual(out, { content: 'Done.', calls: [{ name: 'lookup', arguments: '{"q": 1}' }] });
  });

  test('a call cut short keeps its name and the arguments written, none before they began', () => {
    checkCutCalls(functionaryV32, [
      ['get_weather\n{"city": "Pa', 'get_weather', '{"city": "Pa'],
      [`${ONE}>>>get_time\n`, 'get_time', '', [BOTH[0]]],
    ]);
  });

  test('reads back the calls the template renders', () => {
    // The template concatenates the arguments as text (jinja2 refuses an object there), so they
    // are given as JSON strings here.
    const turn = renderedTurn('meetkai-functionary-medium-v3.2', 'Let me look that up.', [
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: WEATHER_ARGS } },
      { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: TIME_ARGS } },
    ]);
    assert.equal(turn, `>>>all\nLet me look that up.>>>${TWO}`);
    assert.deepEqual(parseChecked(functionaryV32, turn), { content: 'Let me look that up.', calls: BOTH });
    // As generated after the prompt's `>>>`.
    assert.deepEqual(parseChecked(functionaryV32, turn.slice('>>>'.length)), { content: 'Let me look that up.', calls: BOTH });
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = functionaryV32.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, `>>>${ONE}`));
    assert.ok(grammarAccepts(grammar, `>>>${TWO}`));
    assert.ok(grammarAccepts(grammar, '>>>get_weather\n{"city":"Paris","days":3}'));
    assert.ok(!grammarAccepts(grammar, `>>>${ONE.replace('Paris', 'Rome')}`));
    assert.ok(!grammarAccepts(functionaryV32.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), `>>>${TWO}`));
    const auto = toolGrammar(functionaryV32, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(auto, 'all\nIt is sunny.'));
    assert.ok(grammarAccepts(auto, `all\nLet me look that up.>>>${TWO}`));
    assert.ok(!grammarAccepts(auto, `all\nLet me look that up.>>>${ONE.replace('Paris', 'Rome')}`));
  });
});
