// An array shape as grammar: a `list` node (positional elements, the rest, length bounds) whose
// elements, where `contains` counts, are split into those that count and those that do not.
import { g } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import type { Emitter } from './emit.js';
import { and, not, type Node } from './ir/node.js';
import type { ArrayShape } from './ir/type-set.js';
import { SchemaError } from './schema-error.js';

const MAX_COUNTED_LENGTH = 10_000;

export function emitArray(shape: ArrayShape, emitter: Emitter): GrammarNode {
  const { prefix, items, min, max, contains } = shape;
  if (shape.unique && max > 1) throw new SchemaError('uniqueItems is not supported (beyond arrays of at most one item)', '');
  if (Math.max(min, max === Infinity ? 0 : max) > MAX_COUNTED_LENGTH)
    throw new SchemaError(`minItems/maxItems beyond ${MAX_COUNTED_LENGTH} are not supported`, '');
  const element = (value: Node, position: number) => {
    if (!contains || position < contains.from) return { plain: undefinedIfNothing(emitter.child(value)) };
    return {
      plain: undefinedIfNothing(emitter.child(and(value, not(contains.value)))),
      counted: undefinedIfNothing(emitter.child(and(value, contains.value))),
    };
  };
  const list: GrammarNode = {
    type: 'list',
    prefix: prefix.map((value, i) => element(value, i)),
    rest: items.k === 'none' ? undefined : element(items, prefix.length),
    separator: emitter.syntax.comma,
    minCount: min,
    maxCount: max,
    countMin: contains?.min ?? 0,
    countMax: contains?.max ?? Infinity,
  };
  const content = min === 0 && (contains?.min ?? 0) === 0 && max === 0 ? g.EMPTY : list;
  return emitter.syntax.bracketed('[', content, ']');
}

function undefinedIfNothing(node: GrammarNode): GrammarNode | undefined {
  return g.isNothing(node) ? undefined : node;
}
