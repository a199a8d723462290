import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from '../../src/api/json-body.js';
import { bypassesCache } from '../../src/response-cache/hooks.js';
import { canonicalJson, entryBytes, requestKey, ResponseCache, type CachedResponse } from '../../src/response-cache/store.js';
import { withFreshIdentity } from '../../src/server/replayed-identity.js';
import { sseData } from '../helpers/sse.js';

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

describe("a replayed answer's identity", () => {
  const JSON_HEADERS = { 'content-type': 'application/json' };
  const SSE_HEADERS = { 'content-type': 'text/event-stream' };

  it('an OpenAI body gets a fresh id of its kind and a fresh created; its content stays', () => {
    const stored = {
      id: 'chatcmpl-0123456789abcdef',
      object: 'chat.completion',
      created: 1000,
      model: 'm',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'say "id":"chatcmpl-0123456789abcdef","created":1000',
            tool_calls: [{ id: 'call_1', type: 'function' }],
          },
        },
      ],
    };
    const replayed = JSON.parse(withFreshIdentity(Buffer.from(JSON.stringify(stored)), JSON_HEADERS).toString());
    assert.match(replayed.id, /^chatcmpl-[0-9a-f]{32}$/);
    assert.notEqual(replayed.id, stored.id);
    assert.ok(replayed.created > stored.created);
    assert.deepEqual({ ...replayed, id: stored.id, created: stored.created }, stored, 'only the top-level id and created change');
    const completion = JSON.parse(
      withFreshIdentity(
        Buffer.from(JSON.stringify({ id: 'cmpl-abc', object: 'text_completion', created: 5, choices: [] })),
        JSON_HEADERS,
      ).toString(),
    );
    assert.match(completion.id, /^cmpl-[0-9a-f]{32}$/);
  });

  it('every chunk of one replayed stream shares its new id; other events are untouched', () => {
    const chunk = (content: string) =>
      `data: {"id":"cmpl-old","object":"text_completion","created":7,"choices":[{"text":${JSON.stringify(content)}}]}\n\n`;
    const stored = `${chunk('a')}${chunk('b\n\n"id":"cmpl-old"')}: keep-alive\n\ndata: {"error":{"message":"x"}}\n\ndata: [DONE]\n\n`;
    const replayed = withFreshIdentity(Buffer.from(stored), SSE_HEADERS).toString();
    const events = sseData(replayed);
    assert.equal(events.length, 4);
    const [first, second] = events.slice(0, 2).map((data) => JSON.parse(data));
    assert.match(first.id, /^cmpl-[0-9a-f]{32}$/);
    assert.equal(second.id, first.id);
    assert.equal(second.created, first.created);
    assert.ok(first.created > 7);
    assert.equal(second.choices[0].text, 'b\n\n"id":"cmpl-old"');
    assert.deepEqual(events.slice(2), ['{"error":{"message":"x"}}', '[DONE]']);
    assert.match(replayed, /\n: keep-alive\n\n/);
  });

  it('native answers replay byte for byte', () => {
    for (const body of [
      '{"generated_text":"chatcmpl-x","details":{"seed":18446744073709551615}}',
      '[{"generated_text":" \\"cmpl-1\\""}]',
      'data: {"index":1,"token":{"id":5,"text":"\\"cmpl-"}}\n\n',
    ]) {
      const bytes = Buffer.from(body);
      assert.equal(withFreshIdentity(bytes, body.startsWith('data') ? SSE_HEADERS : JSON_HEADERS).toString(), body);
    }
  });
});
