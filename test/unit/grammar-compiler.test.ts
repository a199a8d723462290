// The routes' grammar compiler: on its own thread, cached by the grammar's text, and bounded in time.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GrammarCompiler } from '../../src/preprocess/grammar-compiler.js';
import { SchemaError } from '../../src/grammar/json-schema/index.js';

const PERSON = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name'] };
const costly = () => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`key${i}`, { type: 'integer', minimum: i, maximum: 7 * i + 3 }])) });

describe('GrammarCompiler', () => {
  const compiler = new GrammarCompiler();
  after(() => compiler.close());

  it('compiles a JSON Schema on its thread into shared parts, and returns the same compiled grammar for the same schema', async () => {
    const first = await compiler.compile({ type: 'json-schema', schema: PERSON, whitespace: 'compact' });
    assert.equal(first.type, 'compiled');
    const again = await compiler.compile({ type: 'json-schema', schema: structuredClone(PERSON), whitespace: 'compact' });
    assert.equal(again, first);
    const flexible = await compiler.compile({ type: 'json-schema', schema: PERSON, whitespace: 'flexible' });
    assert.notEqual(flexible, first);
  });

  it('refuses a schema past its time budget (a SchemaError saying so), then compiles the next one', async () => {
    await assert.rejects(compiler.compile({ type: 'json-schema', schema: costly(), whitespace: 'compact' }), (error: Error) => error instanceof SchemaError && /took longer than \d+ ms; simplify it/.test(error.message));
    const next = await compiler.compile({ type: 'json-schema', schema: { type: 'array', items: { type: 'boolean' } }, whitespace: 'compact' });
    assert.equal(next.type, 'compiled');
  });

  it('refuses an unsupported keyword with SchemaError naming it and its path', async () => {
    await assert.rejects(compiler.compile({ type: 'json-schema', schema: { type: 'object', properties: { a: { unevaluatedItems: false } } }, whitespace: 'compact' }), (error: Error) => error instanceof SchemaError && /keyword unevaluatedItems is not supported/.test(error.message) && error.path === '/properties/a/unevaluatedItems');
  });

  it('compiles in place when not threaded, with the same results', async () => {
    const inPlace = new GrammarCompiler(false);
    const compiled = await inPlace.compile({ type: 'json-schema', schema: PERSON, whitespace: 'compact' });
    assert.equal(compiled.type, 'compiled');
    await assert.rejects(inPlace.compile({ type: 'json-schema', schema: costly(), whitespace: 'compact' }), /took longer than \d+ ms/);
    await assert.rejects(inPlace.compile({ type: 'regex', pattern: '(a)\\1' }), /backreference/i);
  });
});
