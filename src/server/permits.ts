// Concurrency permits: a request holds one from arrival to its last byte; none free means 429.
export class Permits {
  private inUse = 0;

  constructor(readonly capacity: number) {}

  get available(): number {
    return this.capacity - this.inUse;
  }

  /** Takes `count` permits at once or none; returns the release function, or undefined when overloaded. */
  tryAcquire(count = 1): (() => void) | undefined {
    if (this.inUse + count > this.capacity) return undefined;
    this.inUse += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= count;
    };
  }
}
