// The intermediate form of a JSON Schema: sets of JSON values built from per-type constraints
// (type-set.ts) with and, or and not, and named definitions for $ref (so recursive schemas stay
// finite). Nodes are immutable; `and`, `or` and `not` simplify as they build. Each node has a key
// that names it structurally, so derived nodes (the `and` of two definitions, say) are compiled
// once however often they are met.
import type { TypeSet } from './type-set.js';

export type Node =
  | { readonly k: 'any' }
  | { readonly k: 'none' }
  | { readonly k: 'or'; readonly items: readonly Node[] }
  | { readonly k: 'and'; readonly items: readonly Node[] }
  | { readonly k: 'not'; readonly item: Node }
  | { readonly k: 'ref'; readonly def: Definition }
  | { readonly k: 'types'; readonly set: TypeSet };

export const ANY: Node = Object.freeze({ k: 'any' });
export const NONE: Node = Object.freeze({ k: 'none' });

/** A named node whose body is made on first use: a $ref target, which may refer to itself. */
export class Definition {
  private static count = 0;
  readonly id = Definition.count++;
  private made: Node | undefined;
  private making = false;

  constructor(
    readonly name: string,
    private readonly make: () => Node,
  ) {}

  body(): Node {
    if (this.made !== undefined) return this.made;
    if (this.making) throw new CircularDefinition(this.name);
    this.making = true;
    try {
      this.made = this.make();
    } finally {
      this.making = false;
    }
    return this.made;
  }
}

/** A definition whose body is itself without any JSON in between ({"$ref": "#"} at the root). */
export class CircularDefinition extends Error {
  constructor(readonly definition: string) {
    super(`${definition} refers to itself without any JSON value in between`);
  }
}

const ids = new WeakMap<object, number>();
let nextId = 0;
const keys = new WeakMap<object, string>();

/** A string naming the node: equal for equal and/or/not of the same parts. */
export function keyOf(node: Node): string {
  const known = keys.get(node);
  if (known !== undefined) return known;
  let key: string;
  switch (node.k) {
    case 'any':
    case 'none':
      key = node.k;
      break;
    case 'ref':
      key = `r${node.def.id}`;
      break;
    case 'types': {
      let id = ids.get(node);
      if (id === undefined) ids.set(node, (id = nextId++));
      key = `t${id}`;
      break;
    }
    case 'not':
      key = `!${keyOf(node.item)}`;
      break;
    case 'and':
    case 'or':
      key = `${node.k === 'and' ? '&' : '|'}(${node.items.map(keyOf).join(',')})`;
      break;
  }
  keys.set(node, key);
  return key;
}

export function ref(def: Definition): Node {
  return { k: 'ref', def };
}

export function types(set: TypeSet): Node {
  return { k: 'types', set };
}

export function and(...items: Node[]): Node {
  return combined('and', items, NONE, ANY);
}

export function or(...items: Node[]): Node {
  return combined('or', items, ANY, NONE);
}

/**
 * An and/or of `items`, flattened, deduplicated and ordered by key: `absorbing` (none for and,
 * any for or) wins outright, `neutral` drops out, and what is left of one item is that item.
 */
function combined(k: 'and' | 'or', items: readonly Node[], absorbing: Node, neutral: Node): Node {
  const flat = new Map<string, Node>();
  for (const item of items) {
    if (item.k === absorbing.k) return absorbing;
    if (item.k === neutral.k) continue;
    for (const part of item.k === k ? item.items : [item]) flat.set(keyOf(part), part);
  }
  if (flat.size === 0) return neutral;
  const parts = [...flat.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, part]) => part);
  return parts.length === 1 ? parts[0] : { k, items: parts };
}

export function not(item: Node): Node {
  if (item.k === 'any') return NONE;
  if (item.k === 'none') return ANY;
  if (item.k === 'not') return item.item;
  return { k: 'not', item };
}

const origins = new WeakMap<object, string>();

/** Records the JSON Pointer a node was lowered from, for errors found when it is expanded. */
export function at<T extends Node>(node: T, path: string): T {
  if (node.k !== 'any' && node.k !== 'none' && !origins.has(node)) origins.set(node, path);
  return node;
}

export function originOf(node: Node): string | undefined {
  return origins.get(node);
}
