// JSON Schema grammars end to end on stories260K's real weights: every output that ends by EOS
// parses and validates under its schema (ajv), through the native routes, the openai client's
// response_format, and for 200 real schemas of the MaskBench dev folder.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { jsonSchemaAutomaton, SchemaError } from '../src/grammar/json-schema/index.js';
import { RegexAutomaton, RegexError } from '../src/grammar/regex/index.js';
import { postJson, quantizedStories, readSse, SHARED, startServer, stream, type RunningServer } from './helpers/server.js';

const MASKBENCH = join(SHARED, 'structured-output', 'maskbench-dev');

function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  (addFormats as unknown as (a: unknown) => void)(ajv);
  return ajv;
}

const PERSON = {
  type: 'object',
  title: 'Person',
  properties: { name: { type: 'string', title: 'Name', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 }, pet: { enum: ['cat', 'dog'] } },
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
    const asString = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { ...parameters, grammar: { type: 'json_schema', value: { name: 'person', schema: closed } } } });
    assert.equal(asString.json.generated_text, r.json.generated_text);
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
    const object = await client.chat.completions.create({ model: 'tgi', messages: [{ role: 'user', content: 'Any JSON object.' }], max_tokens: 120, temperature: 0, response_format: { type: 'json_object' } });
    const text = object.choices[0].message.content ?? '';
    if (object.choices[0].finish_reason === 'stop') {
      const parsed = JSON.parse(text);
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), text);
    }
  });

  it('200 real schemas: every output that ends by EOS validates', async () => {
    const files = readdirSync(MASKBENCH).filter((f) => f.endsWith('.json')).sort();
    const schemas: { file: string; schema: unknown }[] = [];
    for (const file of files) {
      if (schemas.length >= 200) break;
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
    let ended = 0;
    for (let i = 0; i < schemas.length; i += 8) {
      const batch = schemas.slice(i, i + 8);
      const answers = await Promise.all(batch.map(({ schema }) => postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 200, details: true, grammar: { type: 'json', value: schema } } })));
      answers.forEach((r, k) => {
        const { file, schema } = batch[k];
        assert.equal(r.status, 200, `${file}: ${r.text}`);
        if (r.json.details.finish_reason !== 'eos_token') return;
        ended++;
        let value: unknown;
        assert.doesNotThrow(() => (value = JSON.parse(r.json.generated_text)), `${file}: ${r.json.generated_text}`);
        const validate = validator().compile(schema as object);
        assert.ok(validate(value), `${file}: ${r.json.generated_text}: ${JSON.stringify(validate.errors)}`);
      });
    }
    assert.ok(ended >= 100, `only ${ended} of 200 outputs ended by EOS`);
    console.log(`# ${ended} of 200 constrained outputs ended by EOS, all valid`);
  });
});
