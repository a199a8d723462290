// Arrays: positional items (prefixItems, or draft-07's items array), then the rest (items, or
// additionalItems), with minItems/maxItems counted over both. An element repeated many times is a
// rule of its own, so each copy costs one call.
import { g, type GrammarBuilder } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import type { Schema } from './keywords.js';
import type { JsonSyntax } from './json-syntax.js';
import type { CompileChild } from './objects.js';
import { nodeSize } from '../cfg/size.js';
import { SchemaError } from './schema-error.js';

const MAX_POSITIONAL = 1024;
const MAX_COUNTED_ITEMS = 10_000;
/** Copies of a repeated element are inlined while their total size stays below this; else they call a rule. */
const INLINE_COPIES_SIZE = 400;

export function arrayNode(schema: Schema, path: string, compileChild: CompileChild, syntax: JsonSyntax, builder: GrammarBuilder): GrammarNode {
  const { positional, positionalPath, rest, restPath } = itemSchemas(schema, path);
  if (positional.length > MAX_POSITIONAL) throw new SchemaError(`more than ${MAX_POSITIONAL} positional items are not supported`, positionalPath);
  checkUnsupported(schema, path);
  const min = count(schema, 'minItems', path) ?? 0;
  const max = count(schema, 'maxItems', path) ?? Infinity;
  if (min > MAX_COUNTED_ITEMS + positional.length) throw new SchemaError(`minItems beyond ${MAX_COUNTED_ITEMS} is not supported`, `${path}/minItems`);
  if (max !== Infinity && max > MAX_COUNTED_ITEMS + positional.length) throw new SchemaError(`maxItems beyond ${MAX_COUNTED_ITEMS} is not supported`, `${path}/maxItems`);
  if (max < min) return g.NOTHING;

  const positions = positional.slice(0, Math.min(max, positional.length)).map((item, i) => compileChild(item, `${positionalPath}/${i}`));
  let restNode = max > positional.length ? compileChild(rest, restPath) : g.NOTHING;
  const restMin = Math.max(0, min - positional.length);
  const restMax = max - positional.length;
  const copies = restMax === Infinity ? restMin + 1 : restMax;
  if (!g.isNothing(restNode) && restNode.type !== 'call' && copies > 2 && copies * nodeSize(restNode, INLINE_COPIES_SIZE + 1) > INLINE_COPIES_SIZE) {
    restNode = g.call(builder.rule(`element at ${restPath}`, restNode));
  }

  // From the last positional element backwards: element i is required when fewer than min would remain.
  let tail: GrammarNode;
  if (g.isNothing(restNode)) tail = restMin > 0 ? g.NOTHING : g.EMPTY;
  else tail = g.repeat(g.seq(syntax.comma, restNode), restMin, restMax);
  for (let i = positions.length - 1; i >= 0; i--) {
    const element = g.seq(i === 0 ? g.EMPTY : syntax.comma, positions[i], tail);
    tail = i < min ? element : g.optional(element);
  }
  let content = tail;
  if (positions.length === 0) {
    if (g.isNothing(restNode) || max === 0) content = min > 0 ? g.NOTHING : g.EMPTY;
    else {
      const first = g.seq(restNode, g.repeat(g.seq(syntax.comma, restNode), Math.max(0, min - 1), max - 1));
      content = min > 0 ? first : g.optional(first);
    }
  }
  if (g.isNothing(content)) return g.NOTHING;
  return syntax.bracketed('[', content, ']');
}

function itemSchemas(schema: Schema, path: string) {
  if (Array.isArray(schema.prefixItems)) {
    return { positional: schema.prefixItems, positionalPath: `${path}/prefixItems`, rest: schema.items ?? true, restPath: `${path}/items` };
  }
  if (Array.isArray(schema.items)) {
    return { positional: schema.items, positionalPath: `${path}/items`, rest: schema.additionalItems ?? true, restPath: `${path}/additionalItems` };
  }
  return { positional: [] as unknown[], positionalPath: `${path}/prefixItems`, rest: schema.items ?? true, restPath: `${path}/items` };
}

function checkUnsupported(schema: Schema, path: string): void {
  const max = schema.maxItems;
  if (schema.uniqueItems === true && !(typeof max === 'number' && max <= 1)) {
    throw new SchemaError('uniqueItems is not supported', `${path}/uniqueItems`);
  }
  if (schema.contains !== undefined) throw new SchemaError('contains is not supported', `${path}/contains`);
}

function count(schema: Schema, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
  return value;
}
