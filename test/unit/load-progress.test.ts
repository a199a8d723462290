// Model-load progress: silent for a load that ends within a second, a line per quarter after that.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { createLoadProgress } from '../../src/cli/progress.js';

function recorder() {
  const lines: string[] = [];
  const logger = { info: (message: string) => lines.push(message) } as unknown as Logger;
  return { lines, logger };
}

describe('model-load progress', () => {
  it('a load that ends within a second logs nothing', () => {
    const { lines, logger } = recorder();
    let now = 0;
    const progress = createLoadProgress(logger, 'Loading m.gguf', false, () => now);
    for (const fraction of [0, 0.25, 0.53, 0.77, 1]) {
      progress.update(fraction);
      now += 5;
    }
    progress.stop();
    assert.deepEqual(lines, []);
  });

  it('a longer load logs each quarter it reaches once the second has passed', () => {
    const { lines, logger } = recorder();
    let now = 0;
    const progress = createLoadProgress(logger, 'Loading m.gguf', false, () => now);
    progress.update(0);
    progress.update(0.1);
    now = 1500;
    progress.update(0.3);
    progress.update(0.4);
    now = 4000;
    progress.update(0.8);
    progress.update(1);
    assert.deepEqual(lines, ['Loading m.gguf: 30%', 'Loading m.gguf: 80%', 'Loading m.gguf: 100%']);
  });
});
