// The size of a rule body's tree, counting each repetition as its copies: what its NFA will cost.
import type { GrammarNode } from './nodes.js';

/** Nodes in `node`, counted up to `budget` (the count stops growing there). */
export function nodeSize(node: GrammarNode, budget: number): number {
  let total = 0;
  const stack = [node];
  while (stack.length > 0 && total < budget) {
    const top = stack.pop()!;
    total++;
    switch (top.type) {
      case 'sequence':
        stack.push(...top.items);
        break;
      case 'alternation':
        stack.push(...top.options);
        break;
      case 'repeat':
        total += Math.min(budget, top.max === Infinity ? top.min + 1 : top.max);
        stack.push(top.item);
        break;
      case 'group':
        stack.push(top.item);
        break;
      case 'members':
        stack.push(top.separator, ...top.items.map((item) => item.node));
        break;
      default:
    }
  }
  return Math.min(total, budget);
}
