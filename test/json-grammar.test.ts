// JSON Schema grammars end to end on stories260K's real weights and on a random-weight model with
// a large vocabulary: every output that ends by EOS parses and validates under its schema (ajv),
// through the native routes, the openai client's response_format, and for 200 real schemas of the
// MaskBench dev folder on each model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { jsonSchemaAutomaton, SchemaError } from '../src/grammar/json-schema/index.js';
import { RegexError } from '../src/grammar/regex/index.js';
import { writeSyntheticLlama } from '../src/bench/model/synthetic-llama.js';
import { quantizedStories, SHARED } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

const MASKBENCH = join(SHARED, 'structured-output', 'maskbench-dev');

function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true, logger: false });
  (addFormats as unknown as (a: unknown) => void)(ajv);
  return ajv;
}

/**
 * Ajv2020 checks every draft's keywords we use, but refuses a root `$schema` naming another draft
 * and draft 4's `id`: those identifiers (strings under `$schema`, `id`, `$id`) are left out.
 */
function compileForAjv(schema: unknown) {
  const withoutIds = JSON.parse(JSON.stringify(schema), (key, value) =>
    (key === '$schema' || key === 'id' || key === '$id') && typeof value === 'string' ? undefined : value,
  );
  return validator().compile(withoutIds);
}

/** The first 200 dev schemas among those `pick` selects (by their index in the sorted folder) that compile. */
function compilingDevSchemas(pick: (index: number) => boolean): { file: string; schema: unknown }[] {
  const files = readdirSync(MASKBENCH)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const schemas: { file: string; schema: unknown }[] = [];
  for (const [i, file] of files.entries()) {
    if (schemas.length >= 200) break;
    if (!pick(i)) continue;
    const { schema } = JSON.parse(readFileSync(join(MASKBENCH, file), 'utf8')) as { schema: unknown };
    try {
      jsonSchemaAutomaton(schema, { whitespace: 'compact' });
    } catch (error) {
      if (error instanceof SchemaError || error instanceof RegexError) continue;
      throw error;
    }
    schemas.push({ file, schema });
  }
  assert.equal(schemas.length, 200, 'fewer than 200 dev schemas compile');
  return schemas;
}

/** Whitespace outside strings is at most one space, after "," or ":" (the generation grammar's rule). */
function whitespaceBounded(text: string): boolean {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (/\s/.test(char) && !(char === ' ' && (text[i - 1] === ',' || text[i - 1] === ':'))) return false;
  }
  return true;
}

/** The texts of the numbers that `type: "integer"` governs, following properties and items (no references). */
function integerTexts(schema: unknown, value: unknown, out: string[] = []): string[] {
  if (schema === null || typeof schema !== 'object') return out;
  const s = schema as Record<string, unknown>;
  if (isLosslessNumber(value)) {
    if (s.type === 'integer' || (Array.isArray(s.type) && s.type.includes('integer') && !s.type.includes('number'))) out.push(value.value);
  } else if (Array.isArray(value)) {
    if (s.items !== null && typeof s.items === 'object' && !Array.isArray(s.items))
      for (const item of value) integerTexts(s.items, item, out);
  } else if (value !== null && typeof value === 'object' && s.properties !== null && typeof s.properties === 'object') {
    for (const [key, member] of Object.entries(value))
      if (Object.hasOwn(s.properties, key)) integerTexts((s.properties as Record<string, unknown>)[key], member, out);
  }
  return out;
}

const INTEGER_SYNTAX = /^-?(0|[1-9][0-9]*)$/;

/** The generated JSON text keeps the generation grammar's form: bounded whitespace, integers as integers. */
function assertGeneratedForm(schema: unknown, text: string, context: string): number {
  assert.ok(whitespaceBounded(text), `${context}: whitespace beyond one space after "," or ":": ${JSON.stringify(text)}`);
  const integers = integerTexts(schema, parseLossless(text));
  for (const integer of integers) assert.match(integer, INTEGER_SYNTAX, `${context}: ${text}`);
  return integers.length;
}

/**
 * Generates under each schema, `batch` requests at a time; every output that ends by EOS must parse
 * and validate with ajv, with bounded whitespace and integers in integer syntax. Returns how many
 * ended by EOS.
 */
async function generateAndValidate(
  url: string,
  schemas: { file: string; schema: unknown }[],
  batch: number,
  request: { inputs: string; maxNewTokens: number },
): Promise<number> {
  let ended = 0;
  for (let i = 0; i < schemas.length; i += batch) {
    const group = schemas.slice(i, i + batch);
    const parameters = (schema: unknown) => ({
      max_new_tokens: request.maxNewTokens,
      details: true,
      grammar: { type: 'json', value: schema },
    });
    const answers = await Promise.all(
      group.map(({ schema }) => postJson(`${url}/generate`, { inputs: request.inputs, parameters: parameters(schema) })),
    );
    answers.forEach((r, k) => {
      const { file, schema } = group[k];
      assert.equal(r.status, 200, `${file}: ${r.text}`);
      if (r.json.details.finish_reason !== 'eos_token') return;
      ended++;
      let value: unknown;
      assert.doesNotThrow(() => (value = JSON.parse(r.json.generated_text)), `${file}: ${r.json.generated_text}`);
      const validate = compileForAjv(schema);
      assert.ok(validate(value), `${file}: ${r.json.generated_text}: ${JSON.stringify(validate.errors)}`);
      assertGeneratedForm(schema, r.json.generated_text, file);
    });
  }
  return ended;
}

/** Whether `text` can still be completed to a text of the grammar (the automaton has not died on it). */
function livePrefix(schema: unknown, text: string): boolean {
  const automaton = jsonSchemaAutomaton(schema, { whitespace: 'compact' });
  let state = automaton.start;
  for (const byte of new TextEncoder().encode(text)) {
    state = automaton.next(state, byte);
    if (state < 0) return false;
  }
  return true;
}

const PERSON = {
  type: 'object',
  title: 'Person',
  properties: {
    name: { type: 'string', title: 'Name', maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    pet: { enum: ['cat', 'dog'] },
  },
  required: ['name', 'age'],
};

describe('JSON Schema grammars', () => {
  let server: RunningServer;
  const ajv = validator();
  before(async () => {
    server = await startServer(['--max-batch-size', '16', '--max-total-tokens', '512'], {}, await quantizedStories());
  });
  after(() => server.stop());

  it('/generate and /generate_stream: the output parses and validates; streamed equals non-streamed', async () => {
    const closed = { ...PERSON, additionalProperties: false };
    const parameters = { max_new_tokens: 120, details: true, grammar: { type: 'json', value: closed } };
    const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.details.finish_reason, 'eos_token', r.json.generated_text);
    const value = JSON.parse(r.json.generated_text);
    assert.ok(ajv.validate(closed, value), `${r.json.generated_text}: ${ajv.errorsText()}`);
    const events = await readSse(await stream(`${server.url}/generate_stream`, { inputs: 'Once upon a time', parameters }));
    assert.equal(events[events.length - 1].json.generated_text, r.json.generated_text);
    const asString = await postJson(`${server.url}/generate`, {
      inputs: 'Once upon a time',
      parameters: { ...parameters, grammar: { type: 'json_schema', value: { name: 'person', schema: closed } } },
    });
    assert.equal(asString.json.generated_text, r.json.generated_text);
  });

  it('integers are written as integers and whitespace is bounded, over seeds (TGI grammar and response_format)', async () => {
    const schema = {
      type: 'object',
      properties: {
        age: { type: 'integer', minimum: 0, maximum: 120 },
        year: { type: 'integer', minimum: -5000, maximum: 3000 },
        scores: { type: 'array', items: { type: 'integer', minimum: -100, maximum: 100 }, maxItems: 3 },
        height: { type: 'number', minimum: 0, maximum: 3 },
      },
      required: ['age', 'year', 'scores', 'height'],
      additionalProperties: false,
    };
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    let integers = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const parameters = { max_new_tokens: 120, do_sample: true, seed, details: true, grammar: { type: 'json', value: schema } };
      const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters });
      assert.equal(r.status, 200, r.text);
      const chat = await client.chat.completions.create({
        model: 'tgi',
        messages: [{ role: 'user', content: 'A person.' }],
        max_tokens: 120,
        seed,
        temperature: 1,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      });
      for (const [text, done] of [
        [r.json.generated_text, r.json.details.finish_reason === 'eos_token'],
        [chat.choices[0].message.content ?? '', chat.choices[0].finish_reason === 'stop'],
      ] as const) {
        if (!done) continue;
        integers += assertGeneratedForm(schema, text, `seed ${seed}`);
      }
    }
    assert.ok(integers >= 20, `only ${integers} integers generated`);
  });

  it('the openai client: response_format json_schema (strict) and json_object', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused' });
    const strict = await client.chat.completions.create({
      model: 'tgi',
      messages: [{ role: 'user', content: 'Tell me about a person.' }],
      max_tokens: 120,
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } },
    });
    const content = strict.choices[0].message.content ?? '';
    const person = JSON.parse(content);
    assert.ok(ajv.validate({ ...PERSON, additionalProperties: false }, person), `${content}: ${ajv.errorsText()}`);
    const object = await client.chat.completions.create({
      model: 'tgi',
      messages: [{ role: 'user', content: 'Any JSON object.' }],
      max_tokens: 120,
      temperature: 0,
      response_format: { type: 'json_object' },
    });
    const text = object.choices[0].message.content ?? '';
    if (object.choices[0].finish_reason === 'stop') {
      const parsed = JSON.parse(text);
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), text);
    }
  });

  it('200 real schemas: every output that ends by EOS validates', async () => {
    const schemas = compilingDevSchemas(() => true);
    const ended = await generateAndValidate(server.url, schemas, 8, { inputs: 'Once upon a time', maxNewTokens: 200 });
    assert.ok(ended >= 100, `only ${ended} of 200 outputs ended by EOS`);
    console.log(`# ${ended} of 200 constrained outputs ended by EOS, all valid`);
  });
});

describe('JSON Schema grammars on a random-weight model with the Qwen2 vocabulary (151,936 tokens)', () => {
  let server: RunningServer;
  before(async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-grammar-')), 'tiny-qwen2-vocab.gguf');
    const shape = { embedding: 64, layers: 2, heads: 4, kvHeads: 2, feedForward: 128, context: 1024 };
    await writeSyntheticLlama({
      shape,
      shapeName: 'tiny',
      vocabPath: join(SHARED, 'models', 'vocab', 'ggml-vocab-qwen2.gguf'),
      quantization: 'q8_0',
      outPath: path,
    });
    server = await startServer(['--max-batch-size', '16', '--max-total-tokens', '1024'], {}, path);
  });
  after(() => server?.stop());

  it('200 real schemas: every output that ends by EOS validates (ajv with ajv-formats)', async () => {
    // Every 13th file, so that each group of the folder is represented.
    const schemas = compilingDevSchemas((i) => i % 13 === 5);
    const ended = await generateAndValidate(server.url, schemas, 16, { inputs: 'Write the JSON:', maxNewTokens: 160 });
    // Random weights wander in free strings, so fewer outputs end than with stories260K.
    assert.ok(ended >= 15, `only ${ended} of 200 outputs ended by EOS`);
    console.log(`# ${ended} of 200 constrained outputs of the random-weight model ended by EOS, all valid`);
  });

  it('checking the drawn token first (no logprobs asked) gives the text the full mask gives, greedy and seeded', async () => {
    const schema = {
      type: 'object',
      properties: { id: { type: 'integer' }, tags: { type: 'array', items: { type: 'string', maxLength: 8 } } },
      required: ['id', 'tags'],
    };
    for (const sampling of [{}, { do_sample: true, seed: 7, temperature: 0.8 }]) {
      const parameters = { max_new_tokens: 60, grammar: { type: 'json', value: schema }, ...sampling };
      // details: true needs the constrained logprobs, so it computes full masks; without, the cheap path.
      const full = await postJson(`${server.url}/generate`, { inputs: 'Write the JSON:', parameters: { ...parameters, details: true } });
      const cheap = await postJson(`${server.url}/generate`, { inputs: 'Write the JSON:', parameters });
      assert.equal(full.status, 200, full.text);
      if (!('seed' in sampling)) assert.equal(cheap.json.generated_text, full.json.generated_text);
      // Sampled, the two paths draw differently but each follows the grammar.
      for (const text of [full.json.generated_text, cheap.json.generated_text]) assert.ok(livePrefix(schema, text), text);
    }
  });
});
