// Slot choice: cache hits first, then few runs of consecutive running slots, then keeping the most
// recently used prompts cached.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SlotTable, type Placement, type SlotView } from '../../src/scheduler/slots.js';

const prompt = (seed: number, length = 40) => Array.from({ length }, (_, i) => seed * 1000 + i);
const slotOf = (placement: Placement) => {
  assert.equal(placement.kind, 'place');
  return (placement as { slot: number }).slot;
};
const idle = new Map<number, SlotView>();

describe('slot table', () => {
  it('sequential requests with different prompts keep the earlier prompts cached', () => {
    const table = new SlotTable(8, true);
    const used: number[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      const slot = slotOf(table.place(prompt(seed), idle, true));
      used.push(slot);
      table.release(slot, prompt(seed));
    }
    assert.equal(new Set(used).size, 4, `slots ${used}`);
    for (let seed = 1; seed <= 4; seed++) {
      const placement = table.place(prompt(seed), idle, true);
      assert.deepEqual(placement, { kind: 'place', slot: used[seed - 1], reuse: 39 });
      table.release(used[seed - 1], prompt(seed));
    }
  });

  it('evicts the least recently used prompt once every slot holds one', () => {
    const table = new SlotTable(3, true);
    const slots = [1, 2, 3].map((seed) => {
      const slot = slotOf(table.place(prompt(seed), idle, true));
      table.release(slot, prompt(seed));
      return slot;
    });
    // seed 1 comes back, so the slot of seed 2 is now the one used longest ago
    table.release(slotOf(table.place(prompt(1), idle, true)), prompt(1));
    const newcomer = slotOf(table.place(prompt(9), idle, true));
    assert.equal(newcomer, slots[1]);
    table.release(newcomer, prompt(9));
    assert.deepEqual(table.place(prompt(3), idle, true), { kind: 'place', slot: slots[2], reuse: 39 });
    assert.deepEqual(table.place(prompt(1), idle, true), { kind: 'place', slot: slots[0], reuse: 39 });
    assert.deepEqual(table.place(prompt(2), idle, true), { kind: 'place', slot: slots[1], reuse: 0 });
  });

  it('fills a gap between running slots before starting a new run, even over a cached prompt', () => {
    const table = new SlotTable(6, true);
    const slots = [0, 1, 2, 3].map((seed) => slotOf(table.place(prompt(seed), idle, true)));
    assert.deepEqual(slots, [0, 1, 2, 3]);
    table.release(1, prompt(1));
    const running = new Map<number, SlotView>([0, 2, 3].map((s) => [s, { tokens: prompt(s) }]));
    assert.equal(slotOf(table.place(prompt(7), running, true)), 1);
  });

  it('extends a run of running slots rather than starting a new one', () => {
    const table = new SlotTable(8, true);
    for (const seed of [0, 1, 2]) slotOf(table.place(prompt(seed), idle, true));
    const running = new Map<number, SlotView>([0, 1, 2].map((s) => [s, { tokens: prompt(s) }]));
    assert.equal(slotOf(table.place(prompt(5), running, true)), 3);
  });

  it("keeps each adapter's slots in one run: a new adapter starts mid-way in the free slots, and runs grow apart", () => {
    const table = new SlotTable(16, true);
    const running = new Map<number, SlotView>();
    const place = (seed: number, adapter?: string) => {
      const slot = slotOf(table.place(prompt(seed), running, true, adapter));
      running.set(slot, { tokens: prompt(seed), adapter });
      return slot;
    };
    // Requests of two adapters arriving in turn.
    const order = [undefined, 'a', undefined, 'a', undefined, 'a', undefined, 'a'];
    const slots = order.map((adapter, i) => place(i, adapter));
    const runs = (adapter?: string) => {
      const mine = slots.filter((_, i) => order[i] === adapter).sort((x, y) => x - y);
      return mine.filter((slot, i) => i === 0 || slot !== mine[i - 1] + 1).length;
    };
    assert.equal(runs(undefined), 1, `base slots ${slots.filter((_, i) => order[i] === undefined)}`);
    assert.equal(runs('a'), 1, `adapter slots ${slots.filter((_, i) => order[i] === 'a')}`);
  });

  it('reuses a cached prompt only under the same adapter', () => {
    const table = new SlotTable(4, true);
    table.release(slotOf(table.place(prompt(1), idle, true)), prompt(1));
    assert.deepEqual(table.place(prompt(1), idle, true, 'a'), { kind: 'place', slot: 1, reuse: 0 });
    table.release(1, prompt(1), 'a');
    assert.deepEqual(table.place(prompt(1), idle, true, 'a'), { kind: 'place', slot: 1, reuse: 39 });
    assert.deepEqual(table.place(prompt(1), idle, true), { kind: 'place', slot: 0, reuse: 39 });
  });

  it('reuses cells only where the tiled attention kernel computed them as it would for the new prompt', () => {
    const tile = 64;
    const table = new SlotTable(4, true, 0, tile);
    const long = prompt(1, 300);
    assert.equal(table.tiledCells(300), 299);
    assert.equal(table.tiledCells(64), 0);
    const slot = slotOf(table.place(long, idle, true));
    // Prompt and 20 generated tokens: the tokens before the prompt's last by the tiled kernel.
    const cells = [...long, ...prompt(7, 20)];
    table.release(slot, cells, undefined, table.tiledCells(long.length));
    // The same prompt: every token but the last, which is computed alone either way.
    assert.deepEqual(table.place(long, idle, true), { kind: 'place', slot, reuse: 299 });
    table.release(slot, cells, undefined, 299);
    // A new question after 250 shared tokens: the 10 new tokens before the last go in a chunk of 64.
    const question = [...long.slice(0, 250), ...prompt(2, 11)];
    assert.deepEqual(table.place(question, idle, true), { kind: 'place', slot, reuse: 260 - tile });
    table.release(slot, cells, undefined, 299);
    // A longer continuation of the conversation: only the prompt's tiled cells, not the generated ones.
    const continued = [...cells, ...prompt(3, 100)];
    assert.deepEqual(table.place(continued, idle, true), { kind: 'place', slot, reuse: 299 });
    table.release(slot, cells, undefined, 299);
    // A short prompt is computed query by query: the tiled cells are of no use to it.
    const short = long.slice(0, 50);
    assert.equal((table.place(short, idle, true) as { reuse: number }).reuse, 0);
  });
});
