// Chat templates: every template in ../shared/chat-templates must render exactly as Python's jinja2
// renders it when configured the way Hugging Face transformers configures it (the reference is
// test/fixtures/render_chat_templates.py), plus unit tests of the template module.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED } from './helpers/models.js';
import { ChatTemplate, TemplateError, type ChatMessage, type RenderInput, type ToolDefinition } from '../src/chat/template.js';
import { CHATML_FALLBACK, fallbackTemplate, templateFromFile, templateFromTokenizerConfig } from '../src/chat/template-source.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const TEMPLATES = join(SHARED, 'chat-templates');

interface Conversation {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
}

interface Fixture {
  bos_token: string;
  eos_token: string;
  add_generation_prompt: boolean;
  /** Local date and time, ISO 8601 without zone. */
  now: string;
  conversations: Record<'plain' | 'no-system' | 'tools', Conversation>;
}

type Outcome = { ok: true; text: string } | { ok: false; error: string };

const fixture = JSON.parse(readFileSync(join(FIXTURES, 'chat-conversations.json'), 'utf8')) as Fixture;
const tokens = { bosToken: fixture.bos_token, eosToken: fixture.eos_token };
const fixedNow = new Date(fixture.now);

/**
 * Templates that do not render identically, each with the reason. The test checks that each still
 * differs on some conversation, so the list stays truthful; every other template must match.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {};

function renderWithPython(jobs: object[]): Outcome[] {
  const run = spawnSync('python3', [join(FIXTURES, 'render_chat_templates.py')], {
    input: JSON.stringify(jobs),
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (run.error || run.status !== 0) {
    throw new Error(`the Python reference failed (python3 with jinja2 3.1 is required): ${run.error?.message ?? run.stderr}`);
  }
  return JSON.parse(run.stdout) as Outcome[];
}

function renderWithUs(template: ChatTemplate, conversation: Conversation): Outcome {
  const input: RenderInput = {
    messages: conversation.messages,
    tools: conversation.tools,
    addGenerationPrompt: fixture.add_generation_prompt,
    now: fixedNow,
  };
  try {
    return { ok: true, text: template.render(input) };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { ok: false, error: error.message };
  }
}

/** Where two outcomes disagree, in a few lines; undefined when they agree. */
function disagreement(python: Outcome, ours: Outcome): string | undefined {
  if (!python.ok) return ours.ok ? `jinja2 raised "${python.error}" but we rendered` : undefined;
  if (!ours.ok) return `we raised "${ours.error}" but jinja2 rendered`;
  if (python.text === ours.text) return undefined;
  let at = 0;
  while (python.text[at] === ours.text[at]) at++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 80), at + 80));
  return `first difference at character ${at}\n  jinja2: ${around(python.text)}\n  ours:   ${around(ours.text)}`;
}

interface Case {
  template: string;
  conversation: keyof Fixture['conversations'];
  compiled: ChatTemplate | TemplateError;
  python?: Outcome;
}

function conversationsFor(template: ChatTemplate | TemplateError, source: string): Case['conversation'][] {
  const readsTools = template instanceof ChatTemplate ? template.readsTools : /\btools\b/.test(source);
  return readsTools || /\btool_calls\b/.test(source) ? ['plain', 'no-system', 'tools'] : ['plain', 'no-system'];
}

function compileOrError(source: string): ChatTemplate | TemplateError {
  try {
    return ChatTemplate.compile(source, tokens);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
}

describe('chat templates render as Python jinja2 renders them', () => {
  const names = readdirSync(TEMPLATES)
    .filter((name) => name.endsWith('.jinja'))
    .sort();
  const sources = new Map(names.map((name) => [name, readFileSync(join(TEMPLATES, name), 'utf8')]));
  sources.set('(ChatML fallback)', CHATML_FALLBACK);
  const cases: Case[] = [];

  before(() => {
    for (const [template, source] of sources) {
      const compiled = compileOrError(source);
      for (const conversation of conversationsFor(compiled, source)) cases.push({ template, conversation, compiled });
    }
    const outcomes = renderWithPython(
      cases.map(({ template, conversation }) => ({
        template: sources.get(template),
        conversation: fixture.conversations[conversation].messages,
        tools: fixture.conversations[conversation].tools,
        bos_token: fixture.bos_token,
        eos_token: fixture.eos_token,
        add_generation_prompt: fixture.add_generation_prompt,
        now: fixture.now,
      })),
    );
    cases.forEach((entry, i) => (entry.python = outcomes[i]));
  });

  function disagreementsOf(template: string): string[] {
    return cases
      .filter((entry) => entry.template === template)
      .flatMap((entry) => {
        const ours: Outcome =
          entry.compiled instanceof TemplateError
            ? { ok: false, error: entry.compiled.message }
            : renderWithUs(entry.compiled, fixture.conversations[entry.conversation]);
        const problem = disagreement(entry.python!, ours);
        return problem ? [`${entry.conversation}: ${problem}`] : [];
      });
  }

  test('the templates are there and the known-differences list names only existing ones', (t) => {
    assert.ok(names.length > 0, `no templates in ${TEMPLATES}`);
    for (const name of Object.keys(KNOWN_DIFFERENCES)) assert.ok(sources.has(name), `${name} is not a template`);
    const identical = names.filter((name) => !(name in KNOWN_DIFFERENCES)).length;
    t.diagnostic(`${identical} of ${names.length} templates render identically to Python jinja2`);
  });

  for (const name of sources.keys()) {
    const reason = KNOWN_DIFFERENCES[name];
    test(reason ? `${name} still differs (${reason})` : name, () => {
      const problems = disagreementsOf(name);
      if (reason) assert.ok(problems.length > 0, `${name} now renders identically: remove it from KNOWN_DIFFERENCES`);
      else assert.deepEqual(problems, []);
    });
  }

  test('the reference renders every template with at least one conversation, so each comparison means something', () => {
    const renderable = new Set(cases.filter((entry) => entry.python?.ok).map((entry) => entry.template));
    // firefunction-v2 reads a `functions` variable that transformers never passes, so jinja2 fails on it too.
    assert.deepEqual(
      [...sources.keys()].filter((name) => !renderable.has(name)),
      ['fireworks-ai-llama-3-firefunction-v2.jinja'],
    );
  });
});

describe('ChatTemplate', () => {
  const render = (source: string, input: Partial<RenderInput> = {}) =>
    ChatTemplate.compile(source, tokens).render({
      messages: fixture.conversations.plain.messages,
      addGenerationPrompt: true,
      now: fixedNow,
      ...input,
    });

  test('readsTools is true only when the source refers to a variable named tools', () => {
    const reads = (source: string) => ChatTemplate.compile(source, tokens).readsTools;
    assert.equal(reads('{% if tools %}{{ tools | tojson }}{% endif %}'), true);
    assert.equal(reads('{% for t in tools %}{% endfor %}'), true);
    assert.equal(reads('You may use tools. {{ message.tools }} {{ "tools" }}'), false);
    assert.equal(reads('{{ f(tools=1) }}'), false);
  });

  test('a parse error is a TemplateError', () => {
    assert.throws(
      () => ChatTemplate.compile('{% if %}', tokens),
      (error: unknown) => error instanceof TemplateError && /cannot parse/.test(error.message),
    );
  });

  test("raise_exception's message becomes the TemplateError's message", () => {
    assert.throws(
      () => render("{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"),
      (error: unknown) =>
        error instanceof TemplateError && error.message === 'Conversation roles must alternate user/assistant/user/assistant/...',
    );
  });

  test('strftime_now formats the given clock with Python strftime codes', () => {
    assert.equal(
      render("{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B %-d, %Y %H:%M %a') }}"),
      '2026-01-15|15 Jan 2026|January 15, 2026 10:30 Thu',
    );
    assert.equal(render("{{ strftime_now('%Y') }}", { now: undefined }), String(new Date().getFullYear()));
  });

  test('tojson behaves as transformers: non-ASCII kept unless asked, indent, separators, sort_keys', () => {
    const extra = { value: { name: 'crème "brûlée"', list: [1, 2.5, null, true], b: {} } };
    assert.equal(render('{{ value | tojson }}', { extra }), '{"name": "crème \\"brûlée\\"", "list": [1, 2.5, null, true], "b": {}}');
    assert.equal(render('{{ value.name | tojson(ensure_ascii=true) }}', { extra }), '"cr\\u00e8me \\"br\\u00fbl\\u00e9e\\""');
    assert.equal(
      render('{{ value | tojson(indent=2, sort_keys=true) }}', { extra: { value: { b: [1], a: 'x' } } }),
      '{\n  "a": "x",\n  "b": [\n    1\n  ]\n}',
    );
    assert.equal(render("{{ value | tojson(separators=(',', ':')) }}", { extra: { value: { a: [1, 2] } } }), '{"a":[1,2]}');
  });

  test('tools and documents are none when not given; extra variables reach the template', () => {
    assert.equal(
      render('{{ tools is none }} {{ tools is defined }} {{ documents is none }} {{ enable_thinking }}', {
        extra: { enable_thinking: false },
      }),
      'True True True False',
    );
    const tools: ToolDefinition[] = [{ type: 'function', function: { name: 'f' } }];
    assert.equal(render('{{ tools[0].function.name }}', { tools }), 'f');
  });

  test('{% generation %} blocks render their body in a scope of their own, as in transformers', () => {
    assert.equal(render('{% set x = 1 %}{%- generation -%} A{% set x = 2 %}{{ x }} {%- endgeneration -%}|{{ x }}'), 'A2|1');
    assert.equal(render('  {% if true %}A{% endif %}\n{% generation %}B{% endgeneration %}'), 'AB');
  });

  test('values print as Python prints them', () => {
    assert.equal(
      render("{{ none }} {{ true }} {{ {'a': [1, 'b', none]} }} {{ 1.0 }} {{ 'x' ~ false }}"),
      "None True {'a': [1, 'b', None]} 1.0 xFalse",
    );
  });
});

describe('template sources', () => {
  let directory: string;
  before(() => (directory = mkdtempSync(join(tmpdir(), 'tgi-node-chat-template-'))));
  after(() => rmSync(directory, { recursive: true, force: true }));
  const write = (name: string, content: string) => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };

  test('a tokenizer_config.json with a string template and special tokens as strings or objects', () => {
    const path = write(
      'tokenizer_config.json',
      JSON.stringify({ chat_template: '{{ bos_token }}', bos_token: '<s>', eos_token: { content: '</s>', lstrip: false } }),
    );
    assert.deepEqual(templateFromTokenizerConfig(path), {
      source: '{{ bos_token }}',
      origin: `tokenizer config ${path}`,
      bosToken: '<s>',
      eosToken: '</s>',
      fallback: false,
    });
  });

  test('a tokenizer_config.json with a list of named templates uses the one named default', () => {
    const path = write(
      'named.json',
      JSON.stringify({
        chat_template: [
          { name: 'tool_use', template: 'T' },
          { name: 'default', template: 'D' },
        ],
      }),
    );
    assert.equal(templateFromTokenizerConfig(path)?.source, 'D');
    assert.equal(
      templateFromTokenizerConfig(write('other.json', JSON.stringify({ chat_template: [{ name: 'rag', template: 'R' }] }))),
      undefined,
    );
  });

  test('a tokenizer_config.json without a template gives undefined', () => {
    assert.equal(templateFromTokenizerConfig(write('none.json', JSON.stringify({ bos_token: '<s>' }))), undefined);
  });

  test('--chat-template takes a raw Jinja file or a chat_template.json', () => {
    const raw = write('template.jinja', '{{ messages[0].content }}\n');
    assert.deepEqual(templateFromFile(raw), { source: '{{ messages[0].content }}\n', origin: `file ${raw}`, fallback: false });
    assert.equal(templateFromFile(write('chat_template.json', JSON.stringify({ chat_template: 'J' }))).source, 'J');
  });

  test('unreadable or malformed files fail with a message naming the file', () => {
    const missing = join(directory, 'missing.jinja');
    assert.throws(() => templateFromFile(missing), new RegExp(`cannot read chat template file ${escapeRegExp(missing)}: no such file`));
    assert.throws(() => templateFromTokenizerConfig(missing), new RegExp(escapeRegExp(missing)));
    const bad = write('bad.json', '{"chat_template": ');
    assert.throws(() => templateFromFile(bad), new RegExp(`${escapeRegExp(bad)} is not valid JSON`));
    const empty = write('empty.json', '{"other": 1}');
    assert.throws(() => templateFromFile(empty), new RegExp(`${escapeRegExp(empty)} has no "chat_template"`));
  });

  test('the ChatML fallback renders the plain conversation as ChatML', () => {
    const source = fallbackTemplate();
    assert.equal(source.fallback, true);
    const text = ChatTemplate.compile(source.source, tokens).render({
      messages: fixture.conversations.plain.messages,
      addGenerationPrompt: true,
    });
    assert.equal(
      text,
      '<|im_start|>system\nYou are a concise assistant. Answer in one sentence.<|im_end|>\n' +
        '<|im_start|>user\nWhat is a "crème brûlée"?<|im_end|>\n' +
        '<|im_start|>assistant\nIt is a French dessert: a rich custard under a layer of caramelised sugar.<|im_end|>\n' +
        '<|im_start|>user\nIs it hard to make at home?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
