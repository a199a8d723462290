// Objects closed to undeclared keys: a tool's arguments object, and every object of a strict schema.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closedArguments, strictSchema } from '../../src/validation/closed-objects.js';
import { resolveToolChoice } from '../../src/validation/tools.js';

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, home: { type: 'object', properties: { city: { type: 'string' } } } },
  required: ['name'],
};

describe('closed objects', () => {
  it("a tool's arguments object admits only its declared keys unless it says additionalProperties", () => {
    assert.deepEqual(closedArguments(PERSON), { ...PERSON, additionalProperties: false });
    // Nested objects keep JSON Schema's default.
    assert.equal((closedArguments(PERSON).properties as { home: Record<string, unknown> }).home.additionalProperties, undefined);
    for (const additionalProperties of [true, false, { type: 'string' }]) {
      assert.deepEqual(closedArguments({ ...PERSON, additionalProperties }), { ...PERSON, additionalProperties });
    }
    // Keys that a referenced or combined schema declares stay allowed.
    const combined = { type: 'object', allOf: [{ properties: { a: { type: 'string' } } }] };
    assert.deepEqual(closedArguments(combined), combined);
  });

  it('tool choices carry closed arguments; strict closes every object', () => {
    const tool = (strict?: boolean) => ({
      type: 'function' as const,
      function: { name: 'add', parameters: PERSON, ...(strict === undefined ? {} : { strict }) },
    });
    const open = resolveToolChoice({ tools: [tool()], tool_choice: 'add' })!;
    assert.equal(open.tools[0].parameters.additionalProperties, false);
    assert.equal((open.tools[0].parameters.properties as { home: Record<string, unknown> }).home.additionalProperties, undefined);
    const strict = resolveToolChoice({ tools: [tool(true)], tool_choice: 'add' })!;
    assert.equal(strict.tools[0].parameters.additionalProperties, false);
    assert.equal((strict.tools[0].parameters.properties as { home: Record<string, unknown> }).home.additionalProperties, false);
  });

  it('strict: objects in properties, items, anyOf and $defs are closed; const, enum and default values are data', () => {
    const schema = {
      type: 'object',
      properties: {
        list: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' } } } },
        either: { anyOf: [{ type: 'object' }, { type: 'null' }] },
        kept: { type: 'object', additionalProperties: true },
        fixed: { const: { properties: { y: 1 } }, default: { type: 'object' } },
        ref: { $ref: '#/$defs/point' },
      },
      $defs: { point: { type: 'object', properties: { x: { type: 'number' } } } },
    };
    assert.deepEqual(strictSchema(schema), {
      type: 'object',
      properties: {
        list: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false } },
        either: { anyOf: [{ type: 'object', additionalProperties: false }, { type: 'null' }] },
        kept: { type: 'object', additionalProperties: true },
        fixed: { const: { properties: { y: 1 } }, default: { type: 'object' } },
        ref: { $ref: '#/$defs/point' },
      },
      $defs: { point: { type: 'object', properties: { x: { type: 'number' } }, additionalProperties: false } },
      additionalProperties: false,
    });
  });
});
