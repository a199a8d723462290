// A grammar: rules whose bodies are regular expressions over bytes that may call other rules
// (a recursive transition network). Rule bodies are built with ./nodes; `GrammarBuilder` names
// rules before they are defined, so that rules can call each other recursively.
import type { GrammarNode } from './nodes.js';

export interface Grammar {
  /** Rule bodies; rule `i` is called by `{type: 'call', rule: i}`. */
  readonly rules: readonly GrammarNode[];
  /** Names for error messages and debugging. */
  readonly names: readonly string[];
  /** The rule the whole text must match. */
  readonly start: number;
}

export class GrammarBuilder {
  private readonly bodies: (GrammarNode | undefined)[] = [];
  private readonly names: string[] = [];

  /** A new rule, to be defined later (it may be called before). */
  declare(name: string): number {
    this.names.push(name);
    return this.bodies.push(undefined) - 1;
  }

  define(rule: number, body: GrammarNode): void {
    if (this.bodies[rule] !== undefined) throw new Error(`rule ${this.names[rule]} is defined twice`);
    this.bodies[rule] = body;
  }

  /** A rule declared and defined at once. */
  rule(name: string, body: GrammarNode): number {
    const id = this.declare(name);
    this.define(id, body);
    return id;
  }

  build(start: number): Grammar {
    const missing = this.bodies.findIndex((body) => body === undefined);
    if (missing >= 0) throw new Error(`rule ${this.names[missing]} is called but never defined`);
    return { rules: this.bodies as GrammarNode[], names: [...this.names], start };
  }
}
