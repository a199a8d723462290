// The subset construction's two operations over the NFA: the epsilon closure of a state and the
// step of a set of states on one byte. A DFA state is the sorted set of the byte states, call
// states (in a grammar's NFA) and match state it stands for; split states are dropped once
// followed, so equal futures compare equal.
import { BYTE_STATE, type Nfa, SPLIT_STATE } from './nfa.js';

export class SubsetStepper {
  private readonly marks: Uint32Array;
  private stamp = 0;
  private readonly stack: Int32Array;
  /** The last result: members in result[0] up to result[resultLength], ascending. */
  readonly result: Int32Array;
  resultLength = 0;

  constructor(private readonly nfa: Nfa) {
    this.marks = new Uint32Array(nfa.stateCount);
    this.stack = new Int32Array(nfa.stateCount);
    this.result = new Int32Array(nfa.stateCount);
  }

  closureOf(state: number): void {
    this.begin();
    this.follow(state);
    this.finish();
  }

  closureOfAll(states: readonly number[]): void {
    this.begin();
    for (const state of states) this.follow(state);
    this.finish();
  }

  /** The states reached from `members` by reading `byte`, closed under epsilon moves. */
  step(members: Int32Array, byte: number): void {
    const { kind, edgeStart, edges } = this.nfa;
    this.begin();
    for (let m = 0; m < members.length; m++) {
      const state = members[m];
      if (kind[state] !== BYTE_STATE) continue;
      for (let e = edgeStart[state]; e < edgeStart[state + 1]; e += 3) {
        if (byte >= edges[e] && byte <= edges[e + 1]) this.follow(edges[e + 2]);
      }
    }
    this.finish();
  }

  private begin(): void {
    if (this.stamp === 0xffffffff) {
      this.marks.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
    this.resultLength = 0;
  }

  private follow(state: number): void {
    const { kind, edgeStart, edges } = this.nfa;
    const { marks, stack, result, stamp } = this;
    if (marks[state] === stamp) return;
    marks[state] = stamp;
    let depth = 0;
    stack[depth++] = state;
    while (depth > 0) {
      const s = stack[--depth];
      if (kind[s] === SPLIT_STATE) {
        for (let e = edgeStart[s]; e < edgeStart[s + 1]; e++) {
          const target = edges[e];
          if (marks[target] !== stamp) {
            marks[target] = stamp;
            stack[depth++] = target;
          }
        }
      } else if (kind[s] !== BYTE_STATE || edgeStart[s + 1] > edgeStart[s]) {
        // A byte state without edges (an empty class) can never move: leave it out.
        result[this.resultLength++] = s;
      }
    }
  }

  private finish(): void {
    this.result.subarray(0, this.resultLength).sort();
  }
}
