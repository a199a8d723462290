// Buffers allocated after a snapshot are found and given transparent huge pages (Linux).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NewMappings } from '../../src/engine/llama/huge-pages.js';
import { MiB, anonHugePagesBytes, transparentHugePagesAvailable as thpAvailable } from '../helpers/huge-pages.js';

describe('huge pages for new buffers', () => {
  it(
    'advises the whole 2 MiB pages of a buffer allocated after the snapshot, and they are backed by huge pages once written',
    { skip: !thpAvailable && 'no transparent huge pages here' },
    () => {
      const before = anonHugePagesBytes();
      const mappings = NewMappings.snapshot();
      const buffer = Buffer.allocUnsafeSlow(64 * MiB);
      const advised = mappings.advise();
      assert.ok(advised >= 62 * MiB, `advised ${advised} bytes`);
      assert.equal(advised % (2 * MiB), 0);
      buffer.fill(1);
      const grown = anonHugePagesBytes() - before;
      assert.ok(grown >= 32 * MiB, `AnonHugePages grew by ${grown} bytes`);
    },
  );

  it('leaves memory that existed before the snapshot alone', { skip: !thpAvailable && 'no transparent huge pages here' }, () => {
    const existing = Buffer.allocUnsafeSlow(16 * MiB);
    const mappings = NewMappings.snapshot();
    assert.equal(mappings.advise(), 0);
    existing.fill(0);
  });

  it(
    'does nothing where there are no transparent huge pages',
    { skip: thpAvailable && 'transparent huge pages are available here' },
    () => {
      const mappings = NewMappings.snapshot();
      Buffer.allocUnsafeSlow(16 * MiB).fill(0);
      assert.equal(mappings.advise(), 0);
    },
  );
});
