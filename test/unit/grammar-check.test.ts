// The grammar checker end to end on a small MaskBench folder, with hand-written regexes standing
// in for the JSON Schema compiler, over the real stories260K vocabulary; and the Python serializer
// against what Python's json.dumps prints.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseLossless } from 'lossless-json';
import { checkFolder, type SchemaCompiler } from '../../src/grammar-check/check.js';
import { selectFiles } from '../../src/grammar-check/files.js';
import { pythonJsonDumps } from '../../src/grammar-check/python-json.js';
import { loadCheckVocabulary, type CheckVocabulary } from '../../src/grammar-check/vocabulary.js';
import { SchemaError } from '../../src/grammar/json-schema/index.js';
import { RegexAutomaton } from '../../src/grammar/regex/index.js';
import { STORIES } from '../helpers/models.js';

const FILES: Record<string, { schema: unknown; tests: { data: unknown; valid: boolean }[] }> = {
  'a-integer.json': {
    schema: { type: 'integer' },
    tests: [
      { data: 5, valid: true },
      { data: -12, valid: true },
      { data: 'x', valid: false },
      { data: 1.5, valid: false },
    ],
  },
  // Written as 2.0 (see before()): every serialization keeps the number as written, which the integer regex refuses.
  'a-integer-float.json': { schema: { type: 'integer' }, tests: [{ data: 2, valid: true }] },
  'b-enum.json': {
    schema: { enum: ['a', 'b'] },
    tests: [
      { data: 'a', valid: true },
      { data: 'b', valid: true },
      { data: 'c', valid: false },
    ],
  },
  // The hand regex knows neither whitespace nor the maximum: one false rejection (the spaced
  // serializations of a valid object), one false acceptance (10 passes in the compact one).
  'c-object.json': {
    schema: { type: 'object', properties: { a: { type: 'integer', maximum: 9 } }, required: ['a'] },
    tests: [
      { data: { a: 1 }, valid: true },
      { data: { a: 10 }, valid: false },
      { data: { a: 'x' }, valid: false },
    ],
  },
  'd-unsupported.json': { schema: { type: 'string', format: 'hostname' }, tests: [{ data: 'x', valid: true }] },
  'e-crash.json': { schema: { type: 'null' }, tests: [{ data: null, valid: true }] },
};

const REGEXES = new Map<string, string>([
  ['{"type":"integer"}', '-?(0|[1-9][0-9]*)'],
  ['{"enum":["a","b"]}', '"a"|"b"'],
  ['{"type":"object","properties":{"a":{"type":"integer","maximum":9}},"required":["a"]}', '\\{"a":[0-9]+\\}'],
]);

const fakeCompile: SchemaCompiler = (schema) => {
  const key = JSON.stringify(schema);
  if (key === '{"type":"null"}') throw new TypeError('the compiler tripped');
  const pattern = REGEXES.get(key);
  if (pattern === undefined) throw new SchemaError('format "hostname" is not supported', '/format');
  return RegexAutomaton.compile(pattern);
};

describe('grammar-check', () => {
  let dir: string;
  let vocabulary: CheckVocabulary;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'grammar-check-'));
    for (const [name, content] of Object.entries(FILES))
      writeFileSync(join(dir, name), JSON.stringify(content).replace('"data":2,', '"data":2.0,'));
    writeFileSync(join(dir, 'notes.txt'), 'not a MaskBench file');
    vocabulary = loadCheckVocabulary(STORIES);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts compiled schemas, passes, false rejections and acceptances, and crashes', () => {
    const progress: number[] = [];
    const report = checkFolder(dir, { compile: fakeCompile, vocabulary, onProgress: (done) => progress.push(done) });
    assert.equal(report.schemas, 6);
    assert.equal(report.compiled, 4);
    assert.equal(report.passed_all, 2);
    assert.equal(report.false_rejections, 2);
    assert.equal(report.false_acceptances, 1);
    assert.equal(report.crashes, 1);
    assert.equal(report.timeouts, 0);
    assert.equal(report.not_compiled, 1);
    assert.equal(report.mask_mismatches, 0);
    assert.equal(report.tests, 11);
    assert.equal(report.walks, 33);
    assert.deepEqual(report.by_format, {
      compact: { false_rejections: 1, false_acceptances: 1 },
      python: { false_rejections: 2, false_acceptances: 0 },
      indent2: { false_rejections: 2, false_acceptances: 0 },
    });
    assert.deepEqual(report.not_compiled_reasons, [{ reason: 'format "hostname" is not supported', count: 1 }]);
    assert.deepEqual(report.crash_details, [{ file: 'e-crash.json', message: 'TypeError: the compiler tripped' }]);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
    assert.ok(report.masks_timed > 0 && report.mask_us_max >= report.mask_us_p99 && report.mask_us_p99 >= report.mask_us_p50);
    // stories260K is a SentencePiece vocabulary: the space it prepends is cut off again.
    assert.ok(report.retokenized > 0);
    const falseRejections = report.failures.filter((f) => f.kind === 'false_rejection').map((f) => [f.file, f.test, f.format, f.text]);
    assert.deepEqual(falseRejections, [
      ['a-integer-float.json', 0, 'compact', '2.0'],
      ['a-integer-float.json', 0, 'python', '2.0'],
      ['a-integer-float.json', 0, 'indent2', '2.0'],
      ['c-object.json', 0, 'python', '{"a": 1}'],
      ['c-object.json', 0, 'indent2', '{\n  "a": 1\n}'],
    ]);
  });

  it('walks only the serializations asked for, and valid instances with integers in integer syntax when asked', () => {
    const report = checkFolder(dir, { compile: fakeCompile, vocabulary, serializations: ['compact', 'python'], integerSyntax: true });
    assert.equal(report.walks, 22);
    assert.deepEqual(report.by_format.indent2, { false_rejections: 0, false_acceptances: 0 });
    // 2.0 is walked as 2; the invalid 1.5 stays as written (and refused).
    assert.ok(!report.failures.some((f) => f.file === 'a-integer-float.json'), JSON.stringify(report.failures));
    assert.equal(report.false_acceptances, 1);
    assert.equal(report.passed_all, 3);
  });

  it('counts a compile slower than the time limit as a timeout, and takes the first N files or a seeded sample', () => {
    const slowCompile: SchemaCompiler = (schema) => {
      const until = performance.now() + 30;
      while (performance.now() < until);
      return fakeCompile(schema);
    };
    const report = checkFolder(dir, { compile: slowCompile, vocabulary, limit: 2, timeoutMs: 10 });
    assert.equal(report.schemas, 2);
    assert.equal(report.timeouts, 2);
    assert.equal(report.compiled, 0);
    assert.ok(report.compile_ms_p50 >= 30);

    assert.deepEqual(selectFiles(dir, { limit: 2 }), ['a-integer-float.json', 'a-integer.json']);
    const sample = selectFiles(dir, { sample: 3, seed: 7 });
    assert.equal(sample.length, 3);
    assert.deepEqual(sample, [...sample].sort());
    assert.deepEqual(selectFiles(dir, { sample: 3, seed: 7 }), sample);
    assert.equal(checkFolder(dir, { compile: fakeCompile, vocabulary, sample: 3, seed: 7 }).schemas, 3);
  });

  it("writes data as Python's json.dumps does by default", () => {
    const data = JSON.parse(
      '{"nested":{"list":[1,2.5,[],{},[[null,true,false]]],"empty":"","obj":{"k":{"z":-0}}},' +
        '"unicode":"é☃😀\\u007f\\u0000\\u001f\\n\\r\\t\\b\\f\\"\\\\/\\u2028 ~",' +
        '"floats":[1.0,-1.0,1e-7,1e-5,1e-6,0.0001,0.1,1e15,1e16,1e21,1.5e300,-2.5e-10,123.456,5e-324,1.7976931348623157e308,0.000123]}',
    );
    // python3 -c 'import json; print(json.dumps(json.loads(<the same text>)))', where 1.0 and -0 are
    // the ints JSON.parse made of them.
    const python =
      '{"nested": {"list": [1, 2.5, [], {}, [[null, true, false]]], "empty": "", "obj": {"k": {"z": 0}}}, ' +
      '"unicode": "\\u00e9\\u2603\\ud83d\\ude00\\u007f\\u0000\\u001f\\n\\r\\t\\b\\f\\"\\\\/\\u2028 ~", ' +
      '"floats": [1, -1, 1e-07, 1e-05, 1e-06, 0.0001, 0.1, 1000000000000000, 10000000000000000, 1e+21, 1.5e+300, -2.5e-10, 123.456, 5e-324, 1.7976931348623157e+308, 0.000123]}';
    assert.equal(pythonJsonDumps(data), python);
    // Numbers as lossless-json reads them keep their source text: Python tells 5.0 from 5.
    const asWritten = parseLossless(
      '{"a":5.0,"b":-0.0,"c":10,"d":1e5,"e":12345678901234567890,"f":1E16,"g":-0,"h":1e400,"i":1.5E-7,"j":100.0e-2,"k":123456789012345.6}',
    );
    assert.equal(
      pythonJsonDumps(asWritten),
      '{"a": 5.0, "b": -0.0, "c": 10, "d": 100000.0, "e": 12345678901234567890, "f": 1e+16, "g": 0, "h": Infinity, "i": 1.5e-07, "j": 1.0, "k": 123456789012345.6}',
    );
    assert.equal(pythonJsonDumps([]), '[]');
    assert.equal(pythonJsonDumps({}), '{}');
    assert.equal(pythonJsonDumps('\u{10ffff}'), '"\\udbff\\udfff"');
  });
});
