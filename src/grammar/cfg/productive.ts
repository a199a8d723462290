// Rules that can match some text (productive ones), found by a fixpoint, and rule bodies rewritten
// so that calls of the others match nothing. Together with the smart constructors of ./nodes this
// leaves no dead end in the automaton: every state it reaches can still complete a match.
import { GrammarError } from './error.js';
import type { Grammar } from './grammar.js';
import { alt, chars, EMPTY, type GrammarNode, members, NOTHING, repeat, seq } from './nodes.js';

export function pruneUnproductive(grammar: Grammar): Grammar {
  const productive = new Array<boolean>(grammar.rules.length).fill(false);
  for (let changed = true; changed;) {
    changed = false;
    grammar.rules.forEach((body, rule) => {
      if (!productive[rule] && canMatch(body, productive)) {
        productive[rule] = true;
        changed = true;
      }
    });
  }
  if (!productive[grammar.start]) throw new GrammarError('the grammar matches no text at all');
  if (productive.every(Boolean)) return grammar;
  const rules = grammar.rules.map((body, rule) => (productive[rule] ? rewrite(body, productive) : NOTHING));
  return { ...grammar, rules };
}

function nothingToUndefined(node: GrammarNode): GrammarNode | undefined {
  return node.type === 'chars' && node.set.length === 0 ? undefined : node;
}

function canMatch(node: GrammarNode, productive: readonly boolean[]): boolean {
  switch (node.type) {
    case 'empty':
      return true;
    case 'chars':
      return node.set.length > 0;
    case 'sequence':
      return node.items.every((item) => canMatch(item, productive));
    case 'alternation':
      return node.options.some((option) => canMatch(option, productive));
    case 'repeat':
      return node.min === 0 || canMatch(node.item, productive);
    case 'group':
      return canMatch(node.item, productive);
    case 'call':
      return productive[node.rule];
    case 'dfa':
      return node.dfa.start >= 0;
    case 'counted':
      return node.min === 0 || (node.max >= node.min && canMatch(node.unit, productive));
    case 'list':
      // Conservative: the emptiest list, when its counts allow it, or else one built from usable elements.
      return (
        (node.minCount === 0 && node.countMin === 0) ||
        [...node.prefix, ...(node.rest ? [node.rest] : [])].some(
          (e) => (e.plain && canMatch(e.plain, productive)) || (e.counted && canMatch(e.counted, productive)),
        )
      );
    case 'members': {
      if (node.witness !== undefined && !canMatch(node.witness, productive)) return false;
      const usable = node.items.filter((item) => canMatch(item.node, productive)).length;
      const extras = node.extra !== undefined && canMatch(node.extra, productive);
      const required = node.items.filter((item) => item.required);
      return (
        required.every((item) => canMatch(item.node, productive)) &&
        required.length <= node.maxCount &&
        (extras ? node.maxCount >= node.minCount : usable >= node.minCount && Math.max(required.length, node.minCount) <= node.maxCount)
      );
    }
  }
}

function rewrite(node: GrammarNode, productive: readonly boolean[]): GrammarNode {
  switch (node.type) {
    case 'empty':
      return EMPTY;
    case 'chars':
      return chars(node.set);
    case 'sequence':
      return seq(...node.items.map((item) => rewrite(item, productive)));
    case 'alternation':
      return alt(...node.options.map((option) => rewrite(option, productive)));
    case 'repeat':
      return repeat(rewrite(node.item, productive), node.min, node.max);
    case 'group':
      return rewrite(node.item, productive);
    case 'call':
      return productive[node.rule] ? node : NOTHING;
    case 'dfa':
      return node.dfa.start >= 0 ? node : NOTHING;
    case 'counted':
      return node;
    case 'list': {
      const element = (e: { plain?: GrammarNode; counted?: GrammarNode }) => ({
        plain: e.plain && nothingToUndefined(rewrite(e.plain, productive)),
        counted: e.counted && nothingToUndefined(rewrite(e.counted, productive)),
      });
      return { ...node, prefix: node.prefix.map(element), rest: node.rest && element(node.rest) };
    }
    case 'members':
      return members(
        node.items.map((item) => ({ node: rewrite(item.node, productive), required: item.required })),
        rewrite(node.separator, productive),
        node.extra && rewrite(node.extra, productive),
        node.minCount,
        node.maxCount,
        node.witness && rewrite(node.witness, productive),
      );
  }
}
