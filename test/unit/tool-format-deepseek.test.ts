// DeepSeek's tool-call formats: V3/R1 (type, name and a json fence), V3.1 (name and bare JSON) and
// the DSML invocations of V3.2 (`function_calls` block) and V4 (`tool_calls` block).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deepseekR1, deepseekV31, deepseekV32, deepseekV4 } from '../../src/chat/tools/formats/deepseek.js';
import type { ToolSpec } from '../../src/chat/tools/format.js';
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

const TOOLS: ToolSpec[] = [WEATHER, TIME];

/** The assistant turn a template renders for two calls, between `after` and `before`. */
function renderedCalls(template: string, after: string, before: string, { stringArguments = false, withTools = true } = {}): string {
  const args = [{ city: 'Paris', days: 3 }, { timezone: 'CET' }];
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Weather in Paris, and the time?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_0',
          type: 'function',
          function: { name: 'get_weather', arguments: stringArguments ? JSON.stringify(args[0]) : args[0] },
        },
        { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: stringArguments ? JSON.stringify(args[1]) : args[1] } },
      ],
    },
  ];
  const tools = TOOLS.map(toolDefinition);
  const rendered = ChatTemplate.compile(chatTemplate(template), {
    bosToken: '<｜begin▁of▁sentence｜>',
    eosToken: '<｜end▁of▁sentence｜>',
  }).render({
    messages,
    ...(withTools ? { tools } : {}),
    addGenerationPrompt: false,
  });
  const start = rendered.lastIndexOf(after) + after.length;
  const end = rendered.indexOf(before, start);
  assert.ok(start >= after.length && end > start, `the assistant turn in ${rendered}`);
  return rendered.slice(start, end);
}

function assertSameCalls(calls: readonly { name: string; arguments: string }[]) {
  assert.deepEqual(
    calls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) as unknown })),
    [
      { name: 'get_weather', arguments: { city: 'Paris', days: 3 } },
      { name: 'get_time', arguments: { timezone: 'CET' } },
    ],
  );
}

const R1_WEATHER = '<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris", "days": 3}\n```<｜tool▁call▁end｜>';
const R1_TIME = '<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{"timezone": "CET"}\n```<｜tool▁call▁end｜>';
const R1_ONE = `<｜tool▁calls▁begin｜>${R1_WEATHER}<｜tool▁calls▁end｜>`;
const R1_TWO = `<｜tool▁calls▁begin｜>${R1_WEATHER}\n${R1_TIME}<｜tool▁calls▁end｜>`;

const V31_WEATHER = '<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{"city": "Paris", "days": 3}<｜tool▁call▁end｜>';
const V31_TIME = '<｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{"timezone": "CET"}<｜tool▁call▁end｜>';
const V31_ONE = `<｜tool▁calls▁begin｜>${V31_WEATHER}<｜tool▁calls▁end｜>`;
const V31_TWO = `<｜tool▁calls▁begin｜>${V31_WEATHER}${V31_TIME}<｜tool▁calls▁end｜>`;

describe('deepseek-r1 tool calls', () => {
  test('is recognised from the V3/R1 templates only', () => {
    assert.deepEqual(templatesMatching(deepseekR1), [
      'deepseek-ai-DeepSeek-R1-Distill-Llama-8B',
      'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B',
      'llama-cpp-deepseek-r1',
    ]);
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(deepseekR1, R1_ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('two parallel calls', () => {
    const out = parseChecked(deepseekR1, R1_TWO);
    assert.deepEqual(out.calls, [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
      { name: 'get_time', arguments: '{"timezone": "CET"}' },
    ]);
  });

  test('text before a call is content, reasoning is not read for calls', () => {
    const out = parseChecked(deepseekR1, `<think>maybe <｜tool▁calls▁begin｜> then</think>\n\nLet me look that up.\n\n${R1_ONE}`);
    assert.equal(out.content, '<think>maybe <｜tool▁calls▁begin｜> then</think>\n\nLet me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('continues the reasoning the prompt opened', () => {
    const out = parseChecked(deepseekR1, `Paris, so get_weather.\n</think>\n\n${R1_ONE}`, { inReasoning: true, tools: TOOLS });
    assert.equal(out.content, 'Paris, so get_weather.\n</think>');
    assert.equal(out.calls.length, 1);
  });

  test('a pretty-printed fence with a newline before the end marker (the llama.cpp example)', () => {
    const out = parseChecked(
      deepseekR1,
      '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\n  "timezone": "CET"\n}\n```\n<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    );
    assert.deepEqual(out.calls, [{ name: 'get_time', arguments: '{\n  "timezone": "CET"\n}' }]);
  });

  test('reads the V3.1 form too', () => {
    assert.deepEqual(parseChecked(deepseekR1, V31_TWO).calls, parseChecked(deepseekV31, R1_TWO).calls);
  });

  test('calls cut short: a known name stays a call with the arguments written, none before they began; a bare marker is content', () => {
    const start = '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n';
    checkCutCalls(
      deepseekR1,
      [
        [`<｜tool▁calls▁begin｜>${R1_WEATHER.slice(0, R1_WEATHER.indexOf('"days"'))}`, 'get_weather', '{"city": "Paris",'],
        [start, 'get_weather', ''],
        [`${start}{"city": "Paris", "days"`, 'get_weather', '{"city": "Paris", "days"'],
      ],
      ['Sure. <｜tool▁calls▁begin｜>'],
    );
    checkCutCalls(deepseekV31, [['<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>', 'get_weather', '']]);
  });

  test('text without a call is all content', () => {
    assert.deepEqual(parseChecked(deepseekR1, 'It is sunny in <b>Paris</b> <｜ or so.'), {
      content: 'It is sunny in <b>Paris</b> <｜ or so.',
      calls: [],
    });
  });

  test('round trip through the R1 templates', () => {
    // (llama.cpp's template pipes a `map` generator into `tojson`, which jinja2 refuses: rendered without tools.)
    for (const [name, withTools] of [
      ['deepseek-ai-DeepSeek-R1-Distill-Qwen-32B', true],
      ['llama-cpp-deepseek-r1', false],
    ] as const) {
      const turn = renderedCalls(name, '<｜Assistant｜>', '<｜end▁of▁sentence｜>', { withTools });
      assert.ok(turn.startsWith('<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n'), turn);
      const out = parseChecked(deepseekR1, turn);
      assert.equal(out.content, '');
      assertSameCalls(out.calls);
    }
    // The Llama distill concatenates the arguments as text (and closes the section after each later call).
    const turn = renderedCalls('deepseek-ai-DeepSeek-R1-Distill-Llama-8B', '<｜Assistant｜>', '<｜end▁of▁sentence｜>', {
      stringArguments: true,
    });
    assertSameCalls(parseChecked(deepseekR1, turn).calls);
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const compact = (s: string) => s.replaceAll('": ', '":').replaceAll(', "', ',"');
    const grammar = deepseekR1.callsGrammar(TOOLS, { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, R1_ONE));
    assert.ok(grammarAccepts(grammar, R1_TWO));
    assert.ok(grammarAccepts(grammar, compact(R1_TWO)));
    assert.ok(R1_TWO.startsWith(deepseekR1.triggers[0]));
    assert.ok(!grammarAccepts(grammar, R1_ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, V31_ONE));
    assert.ok(!grammarAccepts(deepseekR1.callsGrammar(TOOLS, { min: 1, max: 1 }), R1_TWO));
  });
});

describe('deepseek-v3.1 tool calls', () => {
  test('is recognised from the V3.1 template only', () => {
    assert.deepEqual(templatesMatching(deepseekV31), ['deepseek-ai-DeepSeek-V3.1']);
  });

  test('one call, with the exact argument text', () => {
    const out = parseChecked(deepseekV31, V31_ONE);
    assert.equal(out.content, '');
    assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
  });

  test('two parallel calls', () => {
    const out = parseChecked(deepseekV31, V31_TWO);
    assert.deepEqual(out.calls, [
      { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
      { name: 'get_time', arguments: '{"timezone": "CET"}' },
    ]);
  });

  test('text before a call is content', () => {
    const out = parseChecked(deepseekV31, `<think>hmm</think>Let me look that up.${V31_ONE}`);
    assert.equal(out.content, '<think>hmm</think>Let me look that up.');
    assert.equal(out.calls.length, 1);
  });

  test('a call without arguments, and a section missing its end marker', () => {
    const out = parseChecked(deepseekV31, '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜><｜tool▁call▁end｜>');
    assert.deepEqual(out.calls, [{ name: 'get_time', arguments: '{}' }]);
  });

  test('round trip through the V3.1 template', () => {
    const turn = renderedCalls('deepseek-ai-DeepSeek-V3.1', '</think>', '<｜end▁of▁sentence｜>');
    assert.ok(turn.startsWith('<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{'), turn);
    const out = parseChecked(deepseekV31, turn);
    assert.equal(out.content, '');
    assertSameCalls(out.calls);
  });

  test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
    const grammar = deepseekV31.callsGrammar(TOOLS, { min: 1, max: null });
    assert.ok(grammarAccepts(grammar, V31_ONE));
    assert.ok(grammarAccepts(grammar, V31_TWO));
    assert.ok(grammarAccepts(grammar, V31_TWO.replaceAll('": ', '":')));
    assert.ok(!grammarAccepts(grammar, V31_ONE.replace('Paris', 'Rome')));
    assert.ok(!grammarAccepts(grammar, R1_ONE));
    assert.ok(!grammarAccepts(deepseekV31.callsGrammar(TOOLS, { min: 1, max: 1 }), V31_TWO));
  });
});

const D = '｜DSML｜';
function dsml(block: string, ...invokes: string[]): string {
  return `<${D}${block}>\n${invokes.join('')}</${D}${block}>`;
}
const DSML_WEATHER = `<${D}invoke name="get_weather">\n<${D}parameter name="city" string="true">Paris</${D}parameter>\n<${D}parameter name="days" string="false">3</${D}parameter>\n</${D}invoke>\n`;
const DSML_TIME = `<${D}invoke name="get_time">\n<${D}parameter name="timezone" string="true">CET</${D}parameter>\n</${D}invoke>\n`;

for (const [format, block, templates] of [
  [deepseekV32, 'function_calls', ['deepseek-ai-DeepSeek-V3.2']],
  [deepseekV4, 'tool_calls', ['deepseek-ai-DeepSeek-V4', 'deepseek-ai-DeepSeek-V4-Flash-0731']],
] as const) {
  const ONE = dsml(block, DSML_WEATHER);
  const TWO = dsml(block, DSML_WEATHER, DSML_TIME);

  describe(`${format.id} tool calls`, () => {
    test('is recognised from its templates only', () => {
      assert.deepEqual(templatesMatching(format), templates);
    });

    test('one call: the arguments built as JSON, strings as strings and other values as JSON', () => {
      const out = parseChecked(format, ONE);
      assert.equal(out.content, '');
      assert.deepEqual(out.calls, [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' }]);
    });

    test('two parallel calls', () => {
      const out = parseChecked(format, TWO);
      assert.deepEqual(out.calls, [
        { name: 'get_weather', arguments: '{"city": "Paris", "days": 3}' },
        { name: 'get_time', arguments: '{"timezone": "CET"}' },
      ]);
    });

    test('text before a call is content', () => {
      const out = parseChecked(format, `<think>weather first</think>Let me look that up.\n\n${ONE}`);
      assert.equal(out.content, '<think>weather first</think>Let me look that up.');
      assert.equal(out.calls.length, 1);
    });

    test('string values are kept as written; the schema decides without the attribute', () => {
      const value = 'a "quoted"\nline <b>';
      const out = parseChecked(
        format,
        dsml(
          block,
          `<${D}invoke name="get_weather">\n<${D}parameter name="city">${value}</${D}parameter>\n<${D}parameter name="days">5</${D}parameter>\n</${D}invoke>\n`,
        ),
      );
      assert.deepEqual(out.calls, [
        {
          name: 'get_weather',
          arguments: JSON.stringify({ city: value, days: 5 }).replace(',"days":', ', "days": ').replace('"city":', '"city": '),
        },
      ]);
    });

    test('an invocation cut short keeps its complete parameters, unclosed; none before the first', () => {
      checkCutCalls(
        format,
        [
          [ONE.slice(0, ONE.indexOf('3</')), 'get_weather', '{"city": "Paris", "days": '],
          [ONE.slice(0, ONE.indexOf('Paris') + 3), 'get_weather', '{"city": "Par'],
          [ONE.slice(0, ONE.indexOf('">') + 3), 'get_weather', ''],
        ],
        [`Hi <${D}${block}>\n`],
      );
    });

    test('round trip through the template', () => {
      for (const template of templates) {
        const turn = renderedCalls(template, '</think>', '<｜end▁of▁sentence｜>');
        assert.ok(turn.startsWith(`\n\n<${D}${block}>\n<${D}invoke name="get_weather">`), turn);
        const out = parseChecked(format, turn);
        assert.equal(out.content, '');
        assertSameCalls(out.calls);
      }
    });

    test('the grammar takes the calls the parser reads, and refuses a bad argument', () => {
      const grammar = format.callsGrammar(TOOLS, { min: 1, max: null });
      assert.ok(grammarAccepts(grammar, ONE));
      assert.ok(grammarAccepts(grammar, TWO));
      assert.ok(TWO.startsWith(format.triggers[0]));
      assert.ok(!grammarAccepts(grammar, ONE.replace('Paris', 'Rome')));
      assert.ok(!grammarAccepts(grammar, ONE.replace('>3<', '>9<')));
      assert.ok(!grammarAccepts(grammar, TWO.replace('CET', 'Europe/Amsterdam')), 'maxLength');
      assert.ok(!grammarAccepts(format.callsGrammar(TOOLS, { min: 1, max: 1 }), TWO));
      const other = block === 'function_calls' ? 'tool_calls' : 'function_calls';
      assert.ok(!grammarAccepts(grammar, dsml(other, DSML_WEATHER)));
      // ...but the parser reads either block.
      assert.equal(parseChecked(format, dsml(other, DSML_WEATHER)).calls.length, 1);
    });

    test('a tool without parameters, and one with free-form parameters', () => {
      const NOW: ToolSpec = { name: 'now', parameters: { type: 'object', properties: {} } };
      const FREE: ToolSpec = { name: 'free', parameters: { type: 'object' } };
      const grammar = format.callsGrammar([NOW, FREE], { min: 1, max: null });
      const now = `<${D}invoke name="now">\n\n</${D}invoke>\n`;
      const free = `<${D}invoke name="free">\n<${D}parameter name="q" string="true">x</${D}parameter>\n<${D}parameter name="n" string="false">[1, 2]</${D}parameter>\n</${D}invoke>\n`;
      assert.ok(grammarAccepts(grammar, dsml(block, now, free)));
      assert.deepEqual(parseChecked(format, dsml(block, now, free), { tools: [NOW, FREE] }).calls, [
        { name: 'now', arguments: '{}' },
        { name: 'free', arguments: '{"q": "x", "n": [1, 2]}' },
      ]);
    });
  });
}
