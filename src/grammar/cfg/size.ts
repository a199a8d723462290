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
      case 'counted':
        stack.push(top.unit);
        break;
      case 'list':
        for (const e of [...top.prefix, ...(top.rest ? [top.rest] : [])]) {
          if (e.plain) stack.push(e.plain);
          if (e.counted) stack.push(e.counted);
        }
        break;
      case 'members':
        stack.push(top.separator, ...top.items.map((item) => item.node));
        if (top.extra) stack.push(top.extra);
        if (top.witness) stack.push(top.witness);
        break;
      default:
    }
  }
  return Math.min(total, budget);
}
