// Timings kept whole, summarized once at the end.

export class Samples {
  private values = new Float64Array(1024);
  count = 0;
  private sum = 0;

  add(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
    this.sum += value;
  }

  get average(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Percentiles by nearest rank, `fractions` in [0, 1]; 0 when there are no samples. */
  percentiles(fractions: readonly number[]): number[] {
    const sorted = this.values.slice(0, this.count).sort();
    return fractions.map((f) => (this.count === 0 ? 0 : sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(f * this.count) - 1))]));
  }
}
