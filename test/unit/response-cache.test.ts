import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from '../../src/api/json-body.js';
import { bypassesCache } from '../../src/response-cache/hooks.js';
import { canonicalJson, entryBytes, requestKey, ResponseCache, type CachedResponse } from '../../src/response-cache/store.js';

const response = (bytes: number): CachedResponse => ({ headers: { 'content-type': 'application/json' }, body: Buffer.alloc(bytes, 0x61) });

describe('response cache keys', () => {
  it('canonical JSON orders object keys, keeps array order and writes big integers exactly', () => {
    assert.equal(canonicalJson({ b: 1, a: [3, { d: null, c: 'x' }], e: true }), '{"a":[3,{"c":"x","d":null}],"b":1,"e":true}');
    assert.equal(canonicalJson(parseJsonBody('{"seed": 18446744073709551615, "x": 1.5}')), '{"seed":18446744073709551615,"x":1.5}');
    assert.equal(canonicalJson({ '\u00e9': 1, z: 2, A: 3 }), '{"A":3,"z":2,"\u00e9":1}');
  });

  it('one key for bodies that differ in key order only; another for another route, model or value', () => {
    const a = requestKey('POST /generate', 'm', JSON.parse('{"inputs":"x","parameters":{"seed":1,"max_new_tokens":2}}'));
    const b = requestKey('POST /generate', 'm', JSON.parse('{"parameters":{"max_new_tokens":2,"seed":1},"inputs":"x"}'));
    assert.equal(a, b);
    assert.notEqual(requestKey('POST /generate_stream', 'm', JSON.parse('{"inputs":"x","parameters":{"seed":1,"max_new_tokens":2}}')), a);
    assert.notEqual(requestKey('POST /generate', 'other', JSON.parse('{"inputs":"x","parameters":{"seed":1,"max_new_tokens":2}}')), a);
    assert.notEqual(requestKey('POST /generate', 'm', JSON.parse('{"inputs":"x","parameters":{"seed":2,"max_new_tokens":2}}')), a);
    // A string holding JSON is not the JSON it holds.
    assert.notEqual(requestKey('POST /', 'm', { inputs: '{"a":1}' }), requestKey('POST /', 'm', { inputs: { a: 1 } }));
  });

  it('x-use-cache: false in any case bypasses; other values do not', () => {
    for (const value of ['false', 'FALSE', ' False ', ['true', 'false']]) assert.ok(bypassesCache(value), String(value));
    for (const value of [undefined, 'true', '0', 'no', '']) assert.ok(!bypassesCache(value), String(value));
  });
});

describe('response cache store', () => {
  it('holds entries up to its bytes, evicting the least recently used first', () => {
    const one = entryBytes(response(1000));
    const cache = new ResponseCache(8 * one);
    assert.equal(cache.maxEntryBytes, one);
    for (const key of 'abcdefgh') cache.set(key, response(1000));
    assert.equal(cache.size, 8);
    assert.equal(cache.bytes, 8 * one);
    assert.ok(cache.get('a'));
    cache.set('i', response(1000));
    assert.equal(cache.size, 8);
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.ok(cache.get('a') && cache.get('c') && cache.get('i'));
    assert.ok(cache.bytes <= cache.maxBytes);
  });

  it('never keeps an entry larger than an eighth of the cache, nor evicts for it', () => {
    const cache = new ResponseCache(8192);
    cache.set('small', response(100));
    cache.set('large', response(1000));
    assert.equal(cache.get('large'), undefined);
    assert.ok(cache.get('small'));
  });
});
