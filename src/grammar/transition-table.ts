// The transition cache of a lazily built automaton: one row per state (one cell per byte class),
// filled as transitions are computed. At most `maxRows` states have a row at once; when a state
// needs one and none is left, every row is dropped and refilled on demand. State ids keep their
// meaning throughout: only the cost of an answer changes, never the answer.
import { grown } from './regex/interned-sets.js';

/** A cell whose transition is not computed yet. Row 0 is all UNKNOWN: states without a row point at it. */
const UNKNOWN = -2;
const NO_ROW = 0;

export interface TransitionTableLimits {
  /** Rows kept at once. */
  maxCachedStates: number;
  /** Cells kept at once (fewer rows when rows are wide). */
  maxCachedCells: number;
}

export class TransitionTable {
  private readonly maxRows: number;
  private table: Int32Array;
  /** The offset of each state's row in `table`, or NO_ROW. */
  private rowOf = new Int32Array(64);
  private rowOwner = new Int32Array(64);
  private rowsUsed = 1;
  private flushCount = 0;

  constructor(
    private readonly width: number,
    limits: TransitionTableLimits,
  ) {
    this.maxRows = Math.max(1, Math.min(limits.maxCachedStates, Math.floor(limits.maxCachedCells / width) - 1));
    this.table = new Int32Array(Math.min(64, this.maxRows + 1) * width).fill(UNKNOWN);
  }

  /** The cached target of `state` on `byteClass`: UNKNOWN (or undefined past the arrays) when not cached. */
  lookup(state: number, byteClass: number): number {
    return this.table[this.rowOf[state] + byteClass];
  }

  store(state: number, byteClass: number, target: number): void {
    this.table[this.rowFor(state) + byteClass] = target;
  }

  /** Makes room for a new state id. */
  addState(id: number): void {
    if (id >= this.rowOf.length) this.rowOf = grown(this.rowOf, 2 * this.rowOf.length);
  }

  /** How many times the cache was full and was flushed. */
  get flushes(): number {
    return this.flushCount;
  }

  private rowFor(state: number): number {
    if (this.rowOf[state] !== NO_ROW) return this.rowOf[state];
    if (this.rowsUsed > this.maxRows) this.flush();
    const row = this.rowsUsed++;
    const width = this.width;
    if ((row + 1) * width > this.table.length) {
      const capacity = Math.min(4 * this.table.length, (this.maxRows + 1) * width);
      const table = new Int32Array(capacity);
      table.set(this.table);
      table.fill(UNKNOWN, this.table.length);
      this.table = table;
    }
    if (row >= this.rowOwner.length) this.rowOwner = grown(this.rowOwner, 2 * this.rowOwner.length);
    this.rowOwner[row] = state;
    this.rowOf[state] = row * width;
    return row * width;
  }

  private flush(): void {
    for (let row = 1; row < this.rowsUsed; row++) this.rowOf[this.rowOwner[row]] = NO_ROW;
    this.table.fill(UNKNOWN, this.width, this.rowsUsed * this.width);
    this.rowsUsed = 1;
    this.flushCount++;
  }
}
