import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeyFile, resolveApiKeys } from '../../src/cli/api-key-sources.js';
import { ConfigError } from '../../src/cli/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tgi-node-key-sources-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('API key sources', () => {
  it('a key file holds one key a line; blank lines and surrounding whitespace do not count', () => {
    assert.deepEqual(readKeyFile(file('keys', '  one \n\n\ttwo,with-comma\r\n  \nthree'), '--api-key-file'), [
      'one',
      'two,with-comma',
      'three',
    ]);
  });

  it('a missing, unreadable or empty key file is a configuration error naming it', () => {
    const missing = join(dir, 'missing');
    assert.throws(
      () => readKeyFile(missing, '--api-key-file'),
      (e: unknown) => e instanceof ConfigError && e.message === `--api-key-file: cannot read the API key file ${missing}: no such file`,
    );
    assert.throws(
      () => readKeyFile(dir, '--api-key-file'),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(`--api-key-file: cannot read the API key file ${dir}: EISDIR`),
    );
    const empty = file('empty', ' \n\t\n');
    assert.throws(
      () => readKeyFile(empty, '--api-key-file'),
      (e: unknown) => e instanceof ConfigError && e.message === `--api-key-file: the API key file ${empty} holds no key (one key a line)`,
    );
  });

  it('flag values and a key file add up; nothing given is no key', () => {
    const keys = file('more', 'from-file\n');
    assert.deepEqual(resolveApiKeys({ flag: '--api-key', values: ['a', 'b'], file: { path: keys, flag: '--api-key-file' } }), [
      'a',
      'b',
      'from-file',
    ]);
    assert.deepEqual(resolveApiKeys({ flag: '--api-key', file: { path: keys, flag: '--api-key-file' } }), ['from-file']);
    assert.deepEqual(resolveApiKeys({ flag: '--api-key' }), []);
  });

  it('a flag given without any key is refused rather than serving without one', () => {
    assert.throws(
      () => resolveApiKeys({ flag: '--metrics-api-key', values: [] }),
      (e: unknown) => e instanceof ConfigError && /^--metrics-api-key is empty/.test(e.message),
    );
  });
});
