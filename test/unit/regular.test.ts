import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { g, GrammarBuilder, PushdownAutomaton } from '../../src/grammar/cfg/index.js';
import { accepts, determinize, dfaNode, isEmpty, minimize, product, RegularError } from '../../src/grammar/regular/index.js';
import type { ExplicitDfa } from '../../src/grammar/regex/explicit-dfa.js';
import { DEAD } from '../../src/grammar/automaton.js';

const utf8 = new TextEncoder();
const SEED = 20261205;
const dfa = (source: string) => determinize(g.pattern(source));
const matches = (d: ExplicitDfa, text: string) => accepts(d, utf8.encode(text));
const js = (source: string, text: string) => new RegExp(`^(?:${source})$`, 'u').test(text);

/** Every state can reach an accepting one. */
function trimmed(d: ExplicitDfa): boolean {
  const live = new Uint8Array(d.stateCount);
  for (let s = 0; s < d.stateCount; s++) live[s] = d.accepting[s];
  for (let changed = true; changed;) {
    changed = false;
    for (let s = 0; s < d.stateCount; s++) {
      if (live[s]) continue;
      for (let b = 0; b < 256; b++) {
        const t = d.next[s * d.classCount + d.classOf[b]];
        if (t >= 0 && live[t]) {
          live[s] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  return live.every((x) => x === 1);
}

describe('regular languages as explicit DFAs', () => {
  const patterns = ['[a-c]{1,3}', 'a*b', '(ab|ba)+', '[^b]*', 'é+|😀', '\\d{2,4}'];
  const text = fc.array(fc.constantFrom('a', 'b', 'c', 'é', '😀', '1', '2'), { maxLength: 7 }).map((t) => t.join(''));

  it('determinizes patterns exactly', () => {
    for (const source of patterns) {
      const d = dfa(source);
      assert.ok(trimmed(d), source);
      fc.assert(
        fc.property(text, (t) => matches(d, t) === js(source, t)),
        { seed: SEED, numRuns: 500 },
      );
    }
  });

  it('takes products: and, or, and-not, all trimmed', () => {
    for (const a of patterns) {
      for (const b of patterns) {
        const da = dfa(a);
        const db = dfa(b);
        const and = product(da, db, 'and');
        const or = product(da, db, 'or');
        const andNot = product(da, db, 'and-not');
        for (const d of [and, or, andNot]) assert.ok(isEmpty(d) || trimmed(d), `${a} ${b}`);
        fc.assert(
          fc.property(text, (t) => {
            const [x, y] = [js(a, t), js(b, t)];
            return matches(and, t) === (x && y) && matches(or, t) === (x || y) && matches(andNot, t) === (x && !y);
          }),
          { seed: SEED, numRuns: 300 },
        );
      }
    }
  });

  it('minimizes without changing the language', () => {
    for (const a of patterns) {
      for (const b of patterns) {
        const union = product(dfa(a), dfa(b), 'or');
        const small = minimize(union);
        assert.ok(small.stateCount <= union.stateCount);
        assert.ok(trimmed(small));
        fc.assert(
          fc.property(text, (t) => matches(small, t) === (js(a, t) || js(b, t))),
          { seed: SEED, numRuns: 200 },
        );
      }
    }
    // Two spellings of one language minimize to the same size.
    assert.equal(minimize(dfa('(a|b)*abb')).stateCount, minimize(dfa('(a*b*)*abb|abb')).stateCount);
  });

  it('is empty when nothing is left, and bounds its size', () => {
    assert.ok(isEmpty(product(dfa('a+'), dfa('b+'), 'and')));
    assert.ok(isEmpty(product(dfa('a*'), dfa('a*'), 'and-not')));
    assert.throws(() => determinize(g.pattern('(a|b)*a(a|b){14}'), 1000), RegularError);
  });

  it('embeds in a grammar as a node, with no dead end', () => {
    const b = new GrammarBuilder();
    // Strings of a, b of length 2-5 that do not contain "bb": a product embedded between brackets.
    const language = product(dfa('[ab]{2,5}'), dfa('[ab]*bb[ab]*'), 'and-not');
    const start = b.rule('start', g.seq(g.literal('['), dfaNode(language), g.literal(']')));
    const automaton = PushdownAutomaton.compile(b.build(start));
    const run = (t: string) => {
      let s = automaton.start;
      for (const byte of utf8.encode(t)) if (s !== DEAD) s = automaton.next(s, byte);
      return s;
    };
    for (const t of ['ab', 'aba', 'ababa', 'aaaaa']) assert.ok(automaton.accepting(run(`[${t}]`)), t);
    for (const t of ['a', 'abb', 'ababab']) assert.ok(!automaton.accepting(run(`[${t}]`)), t);
    assert.equal(run('[abb'), DEAD);
    assert.equal(run('[ababab'), DEAD);
  });
});
