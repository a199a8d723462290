// The structured-output checker on a sample of the MaskBench dev folder, with the real compiler
// and the Qwen2 vocabulary (151,936 tokens): every test walked through real token masks. The full
// folder is a benchmark (`npm run grammar-check -- ../shared/structured-output/maskbench-dev`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkFolder } from '../src/grammar-check/check.js';
import { loadCheckVocabulary } from '../src/grammar-check/vocabulary.js';
import { jsonSchemaAutomaton } from '../src/grammar/json-schema/index.js';
import { SHARED } from './helpers/models.js';

describe('grammar-check on a sample of MaskBench dev', () => {
  it('no crash, no timeout, no false acceptance; at least 85% of schemas pass every test', () => {
    const vocabulary = loadCheckVocabulary(join(SHARED, 'models', 'vocab', 'ggml-vocab-qwen2.gguf'));
    const report = checkFolder(join(SHARED, 'structured-output', 'maskbench-dev'), {
      sample: 400,
      seed: 11,
      // The grammar generation uses, walked as the command does by default.
      compile: (schema) => jsonSchemaAutomaton(schema, { whitespace: 'compact' }),
      serializations: ['compact', 'python'],
      integerSyntax: true,
      vocabulary,
      maskedTokensPerTest: 8,
    });
    console.log(
      `# ${report.passed_all}/${report.schemas} pass all, ${report.compiled} compile, compile p75 ${report.compile_ms_p75} ms, mask avg ${report.mask_us_avg} us`,
    );
    assert.equal(report.crashes, 0, JSON.stringify(report.crash_details));
    assert.equal(report.timeouts, 0);
    assert.equal(report.false_acceptances, 0, JSON.stringify(report.failures));
    assert.equal(report.mask_mismatches, 0);
    assert.ok(report.passed_all >= 0.85 * report.schemas, `${report.passed_all} of ${report.schemas}`);
  });
});
