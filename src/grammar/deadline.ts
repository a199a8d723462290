// A time budget for compiling one grammar. Compiling runs on its own thread with a deadline set;
// the long loops of the compiler (lowering, emission, NFA construction, DFA products) check it
// now and then, so a hostile schema stops itself with an error instead of running on.

export class CompileTimeout extends Error {
  override name = 'CompileTimeout';
}

let deadline = Infinity;
let budgetMs = Infinity;
let calls = 0;

/** Runs `work` with a deadline `ms` from now (nested calls keep the outer one). */
export function withDeadline<T>(ms: number, work: () => T): T {
  const outer = deadline;
  const outerBudget = budgetMs;
  deadline = Math.min(outer, performance.now() + ms);
  budgetMs = ms;
  try {
    return work();
  } finally {
    deadline = outer;
    budgetMs = outerBudget;
  }
}

/** Throws CompileTimeout past the deadline. Cheap: reads the clock once every 256 calls. */
export function checkDeadline(): void {
  if ((++calls & 255) === 0 && deadline !== Infinity && performance.now() > deadline) {
    throw new CompileTimeout(`compiling the grammar took longer than ${budgetMs} ms; simplify it`);
  }
}
