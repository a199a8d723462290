// The routes' grammar compiler: on its own thread, cached by the grammar's text, and bounded by work
// (steps), not by time.
import { after, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { GrammarCompiler } from '../../src/preprocess/grammar-compiler.js';
import { SchemaError } from '../../src/grammar/json-schema/index.js';
import { COMPILE_STEP_LIMIT, compileStepsTaken, withCompileBudget } from '../../src/grammar/deadline.js';
import { compileSpec } from '../../src/grammar/grammars.js';

const PERSON = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name'] };
// About 1.9 million steps, past the work limit.
const costly = () => ({
  type: 'object',
  properties: Object.fromEntries(Array.from({ length: 12000 }, (_, i) => [`key${i}`, { type: 'integer', minimum: i, maximum: 7 * i + 3 }])),
});
const WORK_LIMIT = new RegExp(
  `compiling the grammar needs more than ${COMPILE_STEP_LIMIT} steps \\(the compile work limit\\); simplify it`,
);

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

  it('refuses a schema past its work limit (a SchemaError naming the limit), then compiles the next one', async () => {
    await assert.rejects(
      compiler.compile({ type: 'json-schema', schema: costly(), whitespace: 'compact' }),
      (error: Error) => error instanceof SchemaError && WORK_LIMIT.test(error.message),
    );
    const next = await compiler.compile({
      type: 'json-schema',
      schema: { type: 'array', items: { type: 'boolean' } },
      whitespace: 'compact',
    });
    assert.equal(next.type, 'compiled');
  });

  it('refuses an unsupported keyword with SchemaError naming it and its path', async () => {
    await assert.rejects(
      compiler.compile({
        type: 'json-schema',
        schema: { type: 'object', properties: { a: { unevaluatedItems: false } } },
        whitespace: 'compact',
      }),
      (error: Error) =>
        error instanceof SchemaError &&
        /keyword unevaluatedItems is not supported/.test(error.message) &&
        error.path === '/properties/a/unevaluatedItems',
    );
  });

  it('compiles in place when not threaded, with the same results', async () => {
    const inPlace = new GrammarCompiler(false);
    const compiled = await inPlace.compile({ type: 'json-schema', schema: PERSON, whitespace: 'compact' });
    assert.equal(compiled.type, 'compiled');
    await assert.rejects(inPlace.compile({ type: 'json-schema', schema: costly(), whitespace: 'compact' }), WORK_LIMIT);
    await assert.rejects(inPlace.compile({ type: 'regex', pattern: '(a)\\1' }), /backreference/i);
  });

  it('counts work, not time: the same schema takes the same steps, refused past the limit whatever the clock', async () => {
    const spec = { type: 'json-schema', schema: PERSON, whitespace: 'flexible' } as const;
    const steps = () => withCompileBudget({ steps: Infinity, ms: Infinity }, () => (compileSpec(spec, 'person'), compileStepsTaken()));
    const taken = steps();
    assert.ok(taken > 1000, `${taken} steps`);
    assert.equal(steps(), taken);
    await assert.rejects(
      new GrammarCompiler(false, { steps: taken - 1, ms: Infinity }).compile(spec),
      new RegExp(`needs more than ${taken - 1} steps \\(the compile work limit\\)`),
    );
    assert.equal((await new GrammarCompiler(false, { steps: taken, ms: Infinity }).compile(spec)).type, 'compiled');
  });

  it('a simple schema compiles however slow the machine is: the clock is only a backstop', async () => {
    // A clock that runs 10 s between two readings, as on a machine too busy to run the compile.
    let now = 0;
    const clock = mock.method(performance, 'now', () => (now += 10_000));
    try {
      const compiled = await new GrammarCompiler(false).compile({ type: 'json-schema', schema: PERSON, whitespace: 'flexible' });
      assert.equal(compiled.type, 'compiled');
    } finally {
      clock.mock.restore();
    }
  });
});
