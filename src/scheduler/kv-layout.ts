// How the KV pool is divided into sequence streams. llama.cpp gives every sequence a stream of
// equal size (attention then spans only that sequence's cells, at the speed of separate slots), so
// the pool is shared by choosing the stream size from the requests at hand: all streams as large as
// the largest request's need (prompt + max_new_tokens), as many as the pool then holds.
import type { KvLayout } from '../engine/types.js';

/** llama.cpp rounds a stream up to a multiple of 256 cells. */
export const STREAM_CELL_STEP = 256;

export interface KvPool {
  /** Cells of the whole pool (--max-batch-total-tokens). */
  cells: number;
  /** Most sequences at once (--max-batch-size). */
  maxSequences: number;
}

export function streamCells(need: number): number {
  return Math.max(STREAM_CELL_STEP, Math.ceil(need / STREAM_CELL_STEP) * STREAM_CELL_STEP);
}

function layoutOfSize(pool: KvPool, sequenceCells: number): KvLayout {
  return { sequences: Math.max(1, Math.min(pool.maxSequences, Math.floor(pool.cells / sequenceCells))), sequenceCells };
}

/** Before any request: as many streams as --max-batch-size allows, each its share of the pool. */
export function initialLayout(pool: KvPool): KvLayout {
  const share = Math.floor(pool.cells / pool.maxSequences / STREAM_CELL_STEP) * STREAM_CELL_STEP;
  return layoutOfSize(pool, Math.max(STREAM_CELL_STEP, share));
}

/**
 * The layout that holds requests of these needs at once, with the most streams; undefined when
 * the pool cannot hold them all together.
 */
export function layoutFor(pool: KvPool, needs: readonly number[]): KvLayout | undefined {
  const largest = needs.reduce((max, need) => Math.max(max, need), 0);
  if (!fitsPool(pool, largest)) return undefined;
  const layout = layoutOfSize(pool, streamCells(largest));
  return layout.sequences >= needs.length ? layout : undefined;
}

/** Whether a request of `need` cells can ever run in this pool. */
export function fitsPool(pool: KvPool, need: number): boolean {
  return streamCells(need) <= pool.cells;
}
