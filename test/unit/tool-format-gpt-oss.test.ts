// The gpt-oss (harmony) format: a call is a message to `functions.NAME` with JSON arguments.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gptOss } from '../../src/chat/tools/formats/gpt-oss.js';
import { toolGrammar } from '../../src/chat/tools/grammar.js';
import { ChatTemplate, type ChatMessage } from '../../src/chat/template.js';
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

const ANALYSIS = '<|channel|>analysis<|message|>User wants the weather in Paris. Use get_weather.<|end|>';
const WEATHER_CALL =
  '<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris", "days": 3}';
const ONE = `${ANALYSIS}${WEATHER_CALL}`;
const TIME_CALL = '<|start|>assistant<|channel|>commentary to=functions.get_time <|constrain|>json<|message|>{"timezone": "CET"}';
/** The form the template renders: the recipient in the role part of the header. */
const ROLE_FORM = ' to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris", "days": 3}';

describe('gpt-oss tool calls', () => {
  test('is recognised from its template and no other', () => {
    assert.deepEqual(templatesMatching(gptOss), ['openai-gpt-oss-120b']);
  });

  test('one call after the analysis, with the exact argument text', () => {
    const out = parseChecked(gptOss, ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
    // With the end-of-generation token kept, and with compact JSON.
    assert.deepEqual(parseChecked(gptOss, `${ONE}<|call|>`), out);
    assert.deepEqual(
      parseChecked(gptOss, `${WEATHER_CALL.replace('{"city": "Paris", "days": 3}', '{"city":"Paris","days":3}')}<|call|>`).calls,
      [{ name: 'get_weather', arguments: '{"city":"Paris","days":3}' }],
    );
  });

  test('the recipient in the role part of the header', () => {
    assert.deepEqual(parseChecked(gptOss, ROLE_FORM), {
      content: '',
      calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }],
    });
    const out = parseChecked(
      gptOss,
      `${ANALYSIS}<|start|>assistant to=functions.get_time<|channel|>commentary <|constrain|>json<|message|>{"timezone": "CET"}<|call|>`,
    );
    assert.deepEqual(out, { content: '', calls: [{ name: 'get_time', arguments: '{"timezone": "CET"}' }] });
    // `<|constrain|>` straight after the name.
    assert.deepEqual(
      parseChecked(gptOss, '<|channel|>commentary to=functions.get_time<|constrain|>json<|message|>{"timezone": "UTC"}').calls,
      [{ name: 'get_time', arguments: '{"timezone": "UTC"}' }],
    );
  });

  test('two calls (one a generation, but a text with two reads as two)', () => {
    const out = parseChecked(gptOss, `${ONE}<|call|>${TIME_CALL}<|call|>`);
    assert.deepEqual(out.calls, [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
      { name: 'get_time', arguments: '{"timezone": "CET"}' },
    ]);
    assert.equal(out.content, '');
  });

  test('a preamble on the commentary channel before a call is content; the analysis is not', () => {
    const out = parseChecked(
      gptOss,
      `${ANALYSIS}<|start|>assistant<|channel|>commentary<|message|>Let me look that up.<|end|>${WEATHER_CALL}`,
    );
    assert.equal(out.content, 'Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('a final answer is content, without its framing', () => {
    const answer = `${ANALYSIS}<|start|>assistant<|channel|>final<|message|>It is **sunny** in Paris <3.`;
    assert.deepEqual(parseChecked(gptOss, answer), { content: 'It is **sunny** in Paris <3.', calls: [] });
    assert.deepEqual(parseChecked(gptOss, `${answer}<|return|>`), { content: 'It is **sunny** in Paris <3.', calls: [] });
    // A preamble and an answer are two paragraphs.
    assert.equal(
      parseChecked(gptOss, `<|channel|>commentary<|message|>Checking.<|end|><|start|>assistant<|channel|>final<|message|>Done.`).content,
      'Checking.\n\nDone.',
    );
  });

  test('call-like text in the analysis is not a call', () => {
    const out = parseChecked(
      gptOss,
      '<|channel|>analysis<|message|>Maybe call to=functions.get_weather with {"city": "Paris"}?<|end|><|start|>assistant<|channel|>final<|message|>Which city?',
    );
    assert.deepEqual(out, { content: 'Which city?', calls: [] });
  });

  test('a message to a built-in tool is neither content nor a call', () => {
    const out = parseChecked(gptOss, '<|channel|>analysis to=browser.search code<|message|>{"query": "Paris weather"}<|call|>');
    assert.deepEqual(out, { content: '', calls: [] });
  });

  test('text outside the harmony structure is content', () => {
    assert.deepEqual(parseChecked(gptOss, 'It is sunny in <b>Paris</b>.'), { content: 'It is sunny in <b>Paris</b>.', calls: [] });
  });

  test('a call cut short stays a call; a recipient with no name is content', () => {
    const head = `${ANALYSIS}<|start|>assistant<|channel|>commentary to=functions.get_weather <|constr`;
    checkCutCalls(
      gptOss,
      [
        [`${head}ain|>json<|message|>{"city": "Par`, 'get_weather', '{"city": "Par'],
        [head, 'get_weather', ''],
        [`${head}ain|>json<|message|>`, 'get_weather', ''],
      ],
      // The recipient's namespace with no name: what was written is content.
      ['<|channel|>commentary to=functions.'],
    );
  });

  test('the template renders a call the parser reads back', () => {
    const template = ChatTemplate.compile(chatTemplate('openai-gpt-oss-120b'), { bosToken: '<|startoftext|>', eosToken: '<|return|>' });
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: { city: 'Paris', days: 3 } } };
    for (const content of ['', 'User wants the weather in Paris.']) {
      const messages: ChatMessage[] = [
        { role: 'user', content: 'Weather in Paris for 3 days?' },
        { role: 'assistant', content, tool_calls: [call] },
      ];
      const rendered = template.render({ messages, tools: [toolDefinition(WEATHER), toolDefinition(TIME)], addGenerationPrompt: false });
      // The generation prompt is `<|start|>assistant`: the turn is what follows it.
      const prompt = '<|start|>user<|message|>Weather in Paris for 3 days?<|end|><|start|>assistant';
      const turn = rendered.slice(rendered.indexOf(prompt) + prompt.length);
      assert.ok(turn.endsWith('<|call|>'), turn);
      const out = parseChecked(gptOss, turn);
      assert.deepEqual(out, { content: '', calls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }] });
      // The call as rendered (without the end-of-generation token) is what the grammar writes.
      const callText = turn.slice(turn.lastIndexOf(' to=functions.'), -'<|call|>'.length);
      assert.ok(grammarAccepts(gptOss.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), callText), callText);
    }
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument or a second call', () => {
    const grammar = gptOss.callsGrammar([WEATHER, TIME], { min: 1, max: null });
    assert.ok(gptOss.triggers.some((trigger) => ROLE_FORM.startsWith(trigger)));
    assert.ok(grammarAccepts(grammar, ROLE_FORM));
    assert.ok(
      grammarAccepts(grammar, ' to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{"city":"Paris","days":3}'),
    );
    assert.ok(grammarAccepts(grammar, ' to=functions.get_time <|constrain|>json<|message|>{"timezone": "CET"}'));
    assert.ok(!grammarAccepts(grammar, ROLE_FORM.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, ' to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris"}'));
    // One call a generation, even when several are allowed.
    const two = `${ROLE_FORM}<|end|><|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{"timezone": "CET"}`;
    assert.ok(!grammarAccepts(grammar, two));
    assert.ok(!grammarAccepts(gptOss.callsGrammar([WEATHER, TIME], { min: 1, max: 1 }), two));
  });

  test('with tool_choice auto the analysis, a preamble or an answer come first, and a call is held to its schema', () => {
    const auto = toolGrammar(gptOss, [WEATHER, TIME], { kind: 'auto' }, { parallel: true });
    assert.ok(grammarAccepts(auto, ONE));
    assert.ok(
      grammarAccepts(auto, `${ANALYSIS}<|start|>assistant<|channel|>commentary<|message|>Let me look that up.<|end|>${WEATHER_CALL}`),
    );
    assert.ok(grammarAccepts(auto, `${ANALYSIS}<|start|>assistant${ROLE_FORM}`));
    assert.ok(grammarAccepts(auto, `${ANALYSIS}<|start|>assistant<|channel|>final<|message|>It is sunny.`));
    assert.ok(!grammarAccepts(auto, ONE.replace('"Paris"', '"Rome"')));
    const required = toolGrammar(gptOss, [WEATHER, TIME], { kind: 'required' }, { parallel: true });
    assert.ok(grammarAccepts(required, ROLE_FORM));
    assert.ok(!grammarAccepts(required, `${ANALYSIS}<|start|>assistant${ROLE_FORM}`));
  });
});
