// The default KV pool: sized for max_batch_size requests of a typical length, in whole streams,
// within a share of free memory, never below one full request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPoolCells } from '../../src/cli/config.js';
import type { ModelInfo } from '../../src/engine/types.js';

// SmolLM2-135M's shape: 30 layers, 3 KV heads of 64 dimensions, 22.5 KiB of f16 KV per token.
const smol = { layers: 30, heads: 9, kvHeads: 3, embeddingSize: 576 } as ModelInfo;
const GiB = 2 ** 30;

describe('default KV pool', () => {
  it('holds max_batch_size requests of 1,024 tokens when memory allows', () => {
    assert.equal(defaultPoolCells(smol, 4096, 64, 20 * GiB), 65536);
  });
  it('rounds short requests up to whole streams of 256 cells', () => {
    assert.equal(defaultPoolCells(smol, 300, 4, 20 * GiB), 4 * 512);
  });
  it('stays within a quarter of free memory, but holds one full request', () => {
    assert.equal(defaultPoolCells(smol, 4096, 64, 1 * GiB), Math.floor(GiB / 4 / 23040));
    assert.equal(defaultPoolCells(smol, 4096, 64, 0.01 * GiB), 4096);
  });
});
