// Each thread's error codec carries the errors its thread raises as their own class, fields kept.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCodec } from '../../src/threads/error-codec.js';
import { AdapterChangeError, engineErrors } from '../../src/runtime/worker-protocol.js';
import { grammarErrors } from '../../src/preprocess/grammar-protocol.js';
import { preprocessErrors } from '../../src/preprocess/protocol.js';
import { MessageError } from '../../src/chat/messages.js';
import { TemplateError } from '../../src/chat/template.js';
import { SchemaError } from '../../src/grammar/json-schema/index.js';
import { RegexError } from '../../src/grammar/regex/index.js';
import { CompileTimeout } from '../../src/grammar/deadline.js';

const roundTrip = (codec: ErrorCodec, error: Error) => codec.decode(structuredClone(codec.encode(error)));

describe("the threads' error codecs", () => {
  it('carry each registered class as itself, with its name, message and fields', () => {
    const cases: [ErrorCodec, Error, (error: Error) => unknown][] = [
      [engineErrors, new AdapterChangeError('adapter a is in use', true), (error) => (error as AdapterChangeError).inUse],
      [engineErrors, new AdapterChangeError('no such file', false), (error) => (error as AdapterChangeError).inUse],
      [preprocessErrors, new MessageError('messages.1.content', 'bad content'), (error) => (error as MessageError).param],
      [preprocessErrors, new TemplateError('raise_exception: no'), () => undefined],
      [grammarErrors, new SchemaError('unknown keyword', '/properties/a'), (error) => (error as SchemaError).detail],
      [grammarErrors, new RegexError('bad pattern', 3), (error) => (error as RegexError).position],
      [grammarErrors, new CompileTimeout('needs more than 10 steps (the compile work limit)'), () => undefined],
    ];
    for (const [codec, error, field] of cases) {
      const back = roundTrip(codec, error);
      assert.equal(back.constructor, error.constructor);
      assert.deepEqual([back.name, back.message, field(back)], [error.name, error.message, field(error)]);
    }
  });

  it('raise what a thread does not register as an Error with its name', () => {
    const back = roundTrip(engineErrors, new SchemaError('not an engine error', '/a'));
    assert.equal(back.constructor, Error);
    assert.deepEqual([back.name, back.message], ['SchemaError', 'not an engine error']);
  });
});
