import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { ApiKeys, bearerToken } from '../../src/server/api-keys.js';

describe('API key comparison', () => {
  it('accepts exactly the configured keys', () => {
    const keys = new ApiKeys(['SeCrEt-Key-123', 'second', 'käse 🔑']);
    for (const key of ['SeCrEt-Key-123', 'second', 'käse 🔑']) assert.ok(keys.accepts(key), key);
    for (const key of [
      'secret-key-123',
      'SECRET-KEY-123',
      'SeCrEt-Key-12',
      'SeCrEt-Key-1234',
      ' second',
      'second ',
      'kase 🔑',
      '',
      'SeCrEt-Key-123,second',
    ]) {
      assert.ok(!keys.accepts(key), key);
    }
  });

  it('accepts nothing without keys', () => {
    const keys = new ApiKeys([]);
    assert.equal(keys.size, 0);
    assert.ok(!keys.accepts(''));
  });

  describe('compares in constant time', () => {
    const original = crypto.timingSafeEqual;
    const lengths: number[][] = [];
    crypto.timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      lengths.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports();
    after(() => {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    });

    it('every key, whichever matches, over digests of one length', () => {
      const keys = new ApiKeys(['first', 'a much longer second key', 'x']);
      for (const candidate of ['first', 'x', 'nothing like it', '']) {
        lengths.length = 0;
        keys.accepts(candidate);
        assert.deepEqual(
          lengths,
          [
            [32, 32],
            [32, 32],
            [32, 32],
          ],
          candidate,
        );
      }
    });
  });
});

describe('bearer token', () => {
  it('takes the token after the scheme Bearer in any case', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER AbC'), 'AbC');
    assert.equal(bearerToken('Bearer  two spaces'), 'two spaces');
  });

  it('finds none in another scheme, a bare key or an empty header', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Bearerabc', 'Basic abc', 'abc', 'Token abc'])
      assert.equal(bearerToken(header), undefined, String(header));
  });
});
