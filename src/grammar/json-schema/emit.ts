// The intermediate form -> grammar nodes. A node's values are emitted type by type; a member's
// value or an element is a call of a rule made once per distinct node (by key), so recursive and
// repeated schemas compile once and nesting never multiplies sizes.
import { g, type GrammarBuilder } from '../cfg/index.js';
import { compileStep } from '../deadline.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { nodeSize } from '../cfg/size.js';
import { emitArray } from './emit-array.js';
import { emitObject } from './emit-object.js';
import { Expander } from './ir/expand.js';
import type { Language } from './ir/language.js';
import { keyOf, type Node, or } from './ir/node.js';
import type { JsonSyntax } from './json-syntax.js';
import { SchemaError } from './schema-error.js';

const MAX_RULES = 20_000;
/** Scalar languages whose nodes are larger than this are rules of their own, shared by each use. */
const INLINE_SCALAR_SIZE = 24;

export class Emitter {
  readonly expander = new Expander();
  private readonly children = new Map<string, GrammarNode>();
  private readonly scalars = new Map<Language, GrammarNode>();
  private ruleCount = 0;

  constructor(
    readonly builder: GrammarBuilder,
    readonly syntax: JsonSyntax,
  ) {}

  /**
   * Every value of the node, as alternatives by type. An `or` of definitions calls each one's rule
   * instead of copying it (the alternatives are then followed side by side until they part).
   */
  value(node: Node): GrammarNode {
    compileStep();
    if (node.k === 'or' && node.items.some((item) => item.k === 'ref')) {
      const refs = node.items.filter((item) => item.k === 'ref');
      const others = node.items.filter((item) => item.k !== 'ref');
      return g.alt(...refs.map((item) => this.child(item)), ...(others.length > 0 ? [this.value(or(...others))] : []));
    }
    const t = this.expander.expand(node);
    const options: GrammarNode[] = [];
    if (t.null) options.push(g.literal('null'));
    if (t.true) options.push(g.literal('true'));
    if (t.false) options.push(g.literal('false'));
    if (t.number) options.push(this.scalar(t.number));
    if (t.string) options.push(this.scalar(t.string));
    for (const shape of t.objects) options.push(emitObject(shape, this));
    for (const shape of t.arrays) options.push(emitArray(shape, this));
    return g.alt(...options);
  }

  /** A member's value or an array element: a call of the node's rule (scalar ones inline). */
  child(node: Node): GrammarNode {
    if (node.k === 'any') return this.syntax.anyValue();
    if (node.k === 'none') return g.NOTHING;
    const key = keyOf(node);
    const known = this.children.get(key);
    if (known) return known;
    if (node.k === 'types' && node.set.objects.length === 0 && node.set.arrays.length === 0) {
      const inline = this.value(node);
      this.children.set(key, inline);
      return inline;
    }
    if (++this.ruleCount > MAX_RULES) throw new SchemaError(`the schema needs more than ${MAX_RULES} grammar rules`, '');
    const rule = this.builder.declare(`value ${key.length > 40 ? `${key.slice(0, 40)}...` : key}`);
    const call = g.call(rule);
    this.children.set(key, call);
    this.builder.define(rule, this.value(node));
    return call;
  }

  private scalar(language: Language): GrammarNode {
    const known = this.scalars.get(language);
    if (known) return known;
    const node = language.universal && language.kind === 'number' ? this.syntax.number : language.emit();
    const shared =
      nodeSize(node, INLINE_SCALAR_SIZE) < INLINE_SCALAR_SIZE ? node : g.call(this.builder.rule(`${language.kind} value`, node));
    this.scalars.set(language, shared);
    return shared;
  }
}
