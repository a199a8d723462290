// Prompts with images on the scheduler, step by step on a fake engine: each image's rows go in an
// entry of their own (rows, not ids) and no entry mixes text and image rows; a run of a tile or
// more is computed in chunks of a tile or more; a non-causal image goes whole; a cached prefix is
// reused only up to the end of an image; prompt logprobs give image rows none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { imagePlaceholderIds, type EngineEvent, type PromptImage } from '../../src/core/request.js';
import { promptSegments, reusePoints } from '../../src/scheduler/image-prompt.js';
import { FakeEngine, promptIds } from '../helpers/fake-engine.js';
import { request } from '../helpers/requests.js';

const WIDTH = 8; // the fake engine's embedding width

/** A prompt: text ids and images (rows of `tokens`), in order. */
function prompt(parts: (number[] | { hash: string; tokens: number; nonCausal?: boolean })[]): { ids: number[]; images: PromptImage[] } {
  const ids: number[] = [];
  const images: PromptImage[] = [];
  for (const part of parts) {
    if (Array.isArray(part)) {
      ids.push(...part);
      continue;
    }
    images.push({
      start: ids.length,
      tokens: part.tokens,
      positions: part.tokens,
      rows: new Float32Array(part.tokens * WIDTH).fill(0.5),
      nonCausal: part.nonCausal ?? false,
    });
    ids.push(...imagePlaceholderIds(part.hash, part.tokens));
  }
  return { ids, images };
}

function run(maxPrefillTokens: number) {
  const engine = new FakeEngine({ maxSequences: 4, sequenceContextSize: 1024, maxBatchTokens: 1024 });
  const events: EngineEvent[] = [];
  const scheduler = new Scheduler(
    engine,
    { maxSequences: 4, poolCells: 4096, maxPrefillTokens, prefixCaching: true },
    (emitted) => events.push(...emitted),
    { gamma: 0.5, delta: 2 },
  );
  const drain = () => {
    for (let i = 0; i < 1000 && scheduler.state.running + scheduler.state.waiting > 0; i++) scheduler.step();
  };
  return { engine, events, scheduler, drain };
}

const shape = (engine: FakeEngine) =>
  engine.batches.map((batch) =>
    batch.entries.map(
      (e) => `${e.image ? `image${e.image.nonCausal ? '!' : ''}` : 'text'} ${e.startPosition}+${e.tokens.length} ${e.outputs}`,
    ),
  );

describe('prompts with images on the scheduler', () => {
  it('placeholder ids are negative, differ by image and by row, and repeat for the same image', () => {
    const a = imagePlaceholderIds('aaa:0', 16);
    assert.ok(a.every((id) => id < 0));
    assert.equal(new Set(a).size, 16);
    assert.deepEqual(imagePlaceholderIds('aaa:0', 16), a);
    assert.notDeepEqual(imagePlaceholderIds('bbb:0', 16), a);
  });

  it('segments: text runs, each image, and the last position alone unless an image must go whole', () => {
    const { images } = prompt([[0, 5, 6], { hash: 'a', tokens: 4 }, [7, 8]]);
    assert.deepEqual(
      promptSegments(9, images).map((s) => [s.start, s.end, s.image ? 'image' : 'text']),
      [
        [0, 3, 'text'],
        [3, 7, 'image'],
        [7, 8, 'text'],
        [8, 9, 'text'],
      ],
    );
    const whole = prompt([[0, 5], { hash: 'a', tokens: 4, nonCausal: true }]).images;
    assert.deepEqual(
      promptSegments(6, whole).map((s) => [s.start, s.end]),
      [
        [0, 2],
        [2, 6],
      ],
    );
    // Reuse may end after an image, or at the first image behind a tiled text run.
    const long = prompt([promptIds(2, 70), { hash: 'a', tokens: 4 }, [7, 8]]).images;
    assert.deepEqual(reusePoints(76, long, 64), [
      { at: 70, tiledOnly: true },
      { at: 74, tiledOnly: false },
    ]);
  });

  it('image rows go in entries of their own, one segment per sequence and step, then decoding', () => {
    const h = run(256);
    const p = prompt([[0, ...promptIds(2, 5)], { hash: 'x', tokens: 16 }, promptIds(10, 4)]);
    h.scheduler.submit(request(1, p.ids, 2, { images: p.images }));
    h.drain();
    assert.deepEqual(h.engine.violations, []);
    assert.deepEqual(shape(h.engine), [['text 0+6 none'], ['image 6+16 none'], ['text 22+3 none'], ['text 25+1 last'], ['text 26+1 last']]);
    assert.equal(h.engine.batches[1].entries[0].image!.floats, 16 * WIDTH);
  });

  it('a long image is computed in chunks of a tile or more under a small budget; a non-causal one whole', () => {
    const h = run(100);
    const p = prompt([[0], { hash: 'y', tokens: 150 }, [5, 6]]);
    h.scheduler.submit(request(1, p.ids, 1, { images: p.images }));
    h.drain();
    assert.deepEqual(h.engine.violations, []);
    const images = shape(h.engine)
      .flat()
      .filter((e) => e.startsWith('image'));
    // 150 rows with 100 a step: 86 then 64 (a whole tile left), never a short rest.
    assert.deepEqual(images, ['image 1+86 none', 'image 87+64 none']);

    const g = run(32);
    const q = prompt([[0], { hash: 'z', tokens: 100, nonCausal: true }, [5, 6]]);
    g.scheduler.submit(request(1, q.ids, 1, { images: q.images }));
    g.drain();
    assert.deepEqual(g.engine.violations, []);
    assert.deepEqual(
      shape(g.engine)
        .flat()
        .filter((e) => e.startsWith('image')),
      ['image! 1+100 none'],
    );
  });

  it('the same images again reuse the cells up to the end of the last shared image', () => {
    const h = run(256);
    const p = prompt([[0, ...promptIds(2, 3)], { hash: 'x', tokens: 16 }, promptIds(10, 4)]);
    h.scheduler.submit(request(1, p.ids, 1, { images: p.images }));
    h.drain();
    const before = h.engine.batches.length;
    h.scheduler.submit(request(2, p.ids, 1, { images: p.images }));
    h.drain();
    assert.deepEqual(h.engine.violations, []);
    assert.equal(h.scheduler.state.reusedPromptTokens, 20);
    assert.deepEqual(shape(h.engine).slice(before), [['text 20+3 none'], ['text 23+1 last']]);
    // Another image in the same place: only the text before it is shared, and that is too short to reuse.
    const other = prompt([[0, ...promptIds(2, 3)], { hash: 'other', tokens: 16 }, promptIds(10, 4)]);
    const mark = h.engine.batches.length;
    h.scheduler.submit(request(3, other.ids, 1, { images: other.images }));
    h.drain();
    assert.equal(h.scheduler.state.reusedPromptTokens, 20);
    assert.deepEqual(shape(h.engine)[mark], ['text 0+4 none']);
  });

  it('prompt logprobs: image rows and the token after an image have none', () => {
    const h = run(256);
    const p = prompt([[0, 5, 6], { hash: 'x', tokens: 3 }, [7, 8]]);
    h.scheduler.submit(request(1, p.ids, 1, { images: p.images, prefillLogprobs: true }));
    h.drain();
    assert.deepEqual(h.engine.violations, []);
    const prefill = h.events.find((e): e is EngineEvent & { kind: 'prefill' } => e.kind === 'prefill')!.tokens;
    assert.deepEqual(
      prefill.map((t) => (t.logprob === null ? null : 'p')),
      [null, 'p', 'p', null, null, null, null, 'p'],
    );
    assert.ok(prefill.slice(3, 6).every((t) => t.id < 0 && t.text === ''));
  });
});
