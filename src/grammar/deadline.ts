// The budget of compiling one grammar: a bound on work, counted in steps, with a wall-clock limit
// only as a generous backstop. The long loops of the compiler (lowering, emission, NFA construction,
// DFA products) count a step each time round, so a hostile schema stops itself with an error
// instead of running on; the same schema is refused (or compiled) however busy the machine is.

export class CompileTimeout extends Error {
  override name = 'CompileTimeout';
}

/**
 * Steps one compile may take. Every MaskBench dev schema that compiles takes fewer than 710,000
 * (half of them fewer than 3,400); a step costs about 0.3 to 3 us on one core, 20 us at worst.
 */
export const COMPILE_STEP_LIMIT = 1_000_000;
/** The backstop: a compile still running after this long stops, whatever its steps. */
export const COMPILE_BACKSTOP_MS = 30_000;

export interface CompileLimits {
  readonly steps: number;
  readonly ms: number;
}

interface Budget extends CompileLimits {
  taken: number;
  deadline: number;
  /** The step count at which the clock is read next. */
  nextClock: number;
}

const CLOCK_EVERY = 1024;
let current: Budget | undefined;
/** Steps counted on this thread, in a budget or not: what a shared cache charges for an entry. */
let counted = 0;

/** Runs `work` within `limits` (a nested call keeps the outer budget). */
export function withCompileBudget<T>(limits: CompileLimits, work: () => T): T {
  if (current) return work();
  current = { ...limits, taken: 0, deadline: performance.now() + limits.ms, nextClock: CLOCK_EVERY };
  try {
    return work();
  } finally {
    current = undefined;
  }
}

/**
 * `steps` steps of compiling work: throws CompileTimeout past the step limit, or (reading the clock
 * once every 1,024 steps) past the backstop.
 */
export function compileStep(steps = 1): void {
  counted += steps;
  const budget = current;
  if (!budget) return;
  budget.taken += steps;
  if (budget.taken > budget.steps) {
    throw new CompileTimeout(`compiling the grammar needs more than ${budget.steps} steps (the compile work limit); simplify it`);
  }
  if (budget.taken >= budget.nextClock) {
    budget.nextClock = budget.taken + CLOCK_EVERY;
    if (performance.now() > budget.deadline)
      throw new CompileTimeout(`compiling the grammar took longer than ${budget.ms} ms (the compile time backstop); simplify it`);
  }
}

/** An entry of a cache shared by the compiles of a thread, with the steps computing it took. */
export interface Charged<V> {
  readonly value: V;
  readonly steps: number;
}

/**
 * The value of `key` in a cache that outlives one compile. A hit is charged the steps its
 * computation took, so that a schema takes the same steps whatever was compiled before it.
 */
export function sharedWork<K, V>(cache: Map<K, Charged<V>>, key: K, compute: () => V): V {
  const known = cache.get(key);
  if (known) {
    compileStep(known.steps);
    return known.value;
  }
  const before = counted;
  const value = compute();
  cache.set(key, { value, steps: counted - before });
  return value;
}

/** The steps the current compile has taken so far (0 outside a budget). */
export function compileStepsTaken(): number {
  return current?.taken ?? 0;
}

/** `work` outside any budget: a constant made once per thread, on first use, is no compile's work. */
export function uncounted<T>(work: () => T): T {
  const outer = current;
  const before = counted;
  current = undefined;
  try {
    return work();
  } finally {
    current = outer;
    counted = before;
  }
}
