// Which MaskBench files a run takes: all, the first N by name, or a seeded sample.
import { readdirSync } from 'node:fs';
import { SeededRandom } from '../sampling/random.js';

export interface Selection {
  limit?: number;
  sample?: number;
  seed?: number;
}

export function selectFiles(dir: string, selection: Selection): string[] {
  let names = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  if (selection.sample !== undefined) names = seededSample(names, selection.sample, selection.seed ?? 0).sort();
  if (selection.limit !== undefined) names = names.slice(0, selection.limit);
  return names;
}

function seededSample(names: string[], count: number, seed: number): string[] {
  const pool = [...names];
  const random = new SeededRandom(seed);
  const taken = Math.min(count, pool.length);
  for (let i = 0; i < taken; i++) {
    const j = i + Math.floor(random.nextFloat() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, taken);
}
