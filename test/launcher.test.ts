// The command line: help, environment variables, ignored TGI flags, configuration errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, SHARED, STORIES, startServer } from './helpers/server.js';

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('launcher', () => {
  it('--help explains every TGI flag it supports', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    for (const flag of ['--model-id', '--hostname', '--port', '--max-concurrent-requests', '--max-best-of', '--max-stop-sequences', '--max-top-n-tokens', '--max-input-tokens', '--max-total-tokens', '--max-batch-prefill-tokens', '--max-batch-total-tokens', '--max-batch-size', '--json-output', '--threads', '--ctx-size', '--flash-attn', '--gpu-layers', '--otlp-endpoint', '--otlp-service-name']) {
      assert.match(result.stdout, new RegExp(`^\\s+(-\\w, )?${flag}\\b.*\\s{2,}[A-Z]`, 'm'), flag);
    }
    assert.match(result.stdout.replace(/\s+/g, ' '), /env: MAX_TOTAL_TOKENS/);
    assert.match(result.stdout.replace(/\s+/g, ' '), /OTLP\/HTTP endpoint .*gRPC is not spoken.*\/v1\/traces.*env: OTLP_ENDPOINT/);
    assert.match(result.stdout.replace(/\s+/g, ' '), /default: "text-generation-inference\.router", env: OTLP_SERVICE_NAME/);
  });

  it('both bins point at the launcher', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.bin['text-generation-launcher'], pkg.bin['tgi-node']);
  });

  it('refuses inconsistent limits with TGI\'s message and exit code 2', () => {
    const result = run(['--model-id', STORIES, '--max-input-tokens', '600', '--max-total-tokens', '512']);
    assert.equal(result.status, 2);
    assert.match(result.stdout + result.stderr, /`max_input_tokens`\(600\) must be < `max_total_tokens`\(512\)/);
  });

  it('an --otlp-endpoint that is not an http(s) URL is a configuration error', () => {
    const result = run(['--model-id', STORIES, '--otlp-endpoint', 'localhost:4318']);
    assert.equal(result.status, 2);
    assert.match(result.stdout + result.stderr, /--otlp-endpoint must be an http:\/\/ or https:\/\/ URL \(OTLP\/HTTP\), got "localhost:4318"/);
  });

  it('a missing model file is a clear error', () => {
    const result = run(['--model-id', 'no/such/model.gguf']);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout + result.stderr, /model file not found: no\/such\/model\.gguf/);
  });

  it('a GGUF with a vocabulary and no weights is a clear error and exit code 1, every time', () => {
    // The engine thread fails at once while the preprocessing thread still loads the vocabulary:
    // the process used to abort (134) about one time in ten on its way out.
    const vocabOnly = join(SHARED, 'models', 'vocab', 'ggml-vocab-llama-spm.gguf');
    const codes: (number | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const result = run(['--model-id', vocabOnly, '--port', '0', '--hostname', '127.0.0.1']);
      codes.push(result.status);
      assert.match(result.stdout + result.stderr, /llama\.cpp could not load the model file .*ggml-vocab-llama-spm\.gguf/);
    }
    assert.deepEqual(codes, Array(20).fill(1));
  });

  it('reads environment variables, warns about TGI flags that cannot apply, and logs the startup summary', async () => {
    const server = await startServer(['--sharded', 'true', '--quantize', 'gptq'], { MAX_TOTAL_TOKENS: '256', MAX_BATCH_SIZE: '3' });
    try {
      const info = await (await fetch(`${server.url}/info`)).json();
      assert.equal(info.max_total_tokens, 256);
      const logs = server.logs.join('\n');
      assert.match(logs, /--sharded is ignored/);
      assert.match(logs, /--quantize is ignored/);
      const summary = server.summary;
      assert.equal(summary.maxBatchSize, 3);
      assert.equal(summary.architecture, 'llama');
      assert.equal(summary.threads, 1);
      assert.equal(summary.kvCacheTokens, 768);
    } finally {
      await server.stop();
    }
  });
});
