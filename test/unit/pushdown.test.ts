import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEAD } from '../../src/grammar/automaton.js';
import { g, GrammarBuilder, GrammarError, PushdownAutomaton } from '../../src/grammar/cfg/index.js';

const SEED = 20261205;
const utf8 = new TextEncoder();

function run(automaton: PushdownAutomaton, text: string): number {
  let state = automaton.start;
  for (const byte of utf8.encode(text)) {
    if (state === DEAD) return DEAD;
    state = automaton.next(state, byte);
  }
  return state;
}

const matches = (automaton: PushdownAutomaton, text: string) => automaton.accepting(run(automaton, text));

/** Balanced brackets: S = ( '(' S? ')' | '[' S? ']' )+ */
function brackets(): PushdownAutomaton {
  const b = new GrammarBuilder();
  const s = b.declare('S');
  const item = g.alt(
    g.seq(g.literal('('), g.optional(g.call(s)), g.literal(')')),
    g.seq(g.literal('['), g.optional(g.call(s)), g.literal(']')),
  );
  b.define(s, g.repeat(item, 1, Infinity));
  return PushdownAutomaton.compile(b.build(s));
}

function balanced(text: string): boolean {
  const stack: string[] = [];
  for (const c of text) {
    if (c === '(' || c === '[') stack.push(c);
    else if (stack.pop() !== (c === ')' ? '(' : '[')) return false;
  }
  return stack.length === 0 && text.length > 0;
}

describe('pushdown automaton', () => {
  it('follows nested brackets to any depth', () => {
    const automaton = brackets();
    for (const text of ['()', '[]', '([])', '()[]', '(((([[[[]]]]))))', '([()[()]])()']) assert.ok(matches(automaton, text), text);
    for (const text of ['', '(', ')', '(]', '([)]', '(()', '())']) assert.ok(!matches(automaton, text), text);
    assert.equal(run(automaton, '(]'), DEAD);
    assert.equal(run(automaton, ')'), DEAD);
    const deep = '('.repeat(500) + ')'.repeat(500);
    assert.ok(matches(automaton, deep));
  });

  it('agrees with a reference matcher on random bracket strings', () => {
    const automaton = brackets();
    fc.assert(
      fc.property(fc.array(fc.constantFrom('(', ')', '[', ']'), { maxLength: 24 }), (chars) => {
        const text = chars.join('');
        assert.equal(matches(automaton, text), balanced(text), text);
        // A live state can always still complete: no dead ends.
        const state = run(automaton, text);
        if (state !== DEAD) assert.ok(matches(automaton, text + closing(text)), text);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('follows alternatives that call different rules with a shared prefix, at once', () => {
    const b = new GrammarBuilder();
    const a = b.rule('A', g.pattern('\\{"a":[0-9]+\\}'));
    const c = b.rule('C', g.pattern('\\{"c":(true|false)\\}'));
    const list = b.rule(
      'list',
      g.seq(
        g.literal('['),
        g.alt(g.call(a), g.call(c)),
        g.repeat(g.seq(g.literal(','), g.alt(g.call(a), g.call(c))), 0, Infinity),
        g.literal(']'),
      ),
    );
    const automaton = PushdownAutomaton.compile(b.build(list));
    assert.ok(matches(automaton, '[{"a":12},{"c":true}]'));
    assert.ok(!matches(automaton, '[{"a":true}]'));
    assert.equal(automaton.stackCount(run(automaton, '[{"')), 2);
    assert.equal(automaton.stackCount(run(automaton, '[{"a')), 1);
    assert.equal(run(automaton, '[{"b'), DEAD);
  });

  it('caches transitions: the same text gives the same states', () => {
    const automaton = brackets();
    const first = run(automaton, '(([[]]))');
    const count = automaton.stateCount;
    assert.equal(run(automaton, '(([[]]))'), first);
    assert.equal(automaton.stateCount, count);
  });

  it('drops calls of rules that match nothing, leaving no dead end', () => {
    const b = new GrammarBuilder();
    const never = b.declare('never');
    b.define(never, g.seq(g.literal('x'), g.call(never)));
    const start = b.rule('start', g.alt(g.seq(g.literal('ab'), g.call(never)), g.literal('ac')));
    const automaton = PushdownAutomaton.compile(b.build(start));
    assert.equal(run(automaton, 'ab'), DEAD);
    assert.ok(matches(automaton, 'ac'));
  });

  it('refuses grammars it cannot follow', () => {
    const left = new GrammarBuilder();
    const e = left.declare('E');
    left.define(e, g.alt(g.seq(g.call(e), g.literal('+1')), g.literal('1')));
    assert.throws(() => PushdownAutomaton.compile(left.build(e)), GrammarError);

    const empty = new GrammarBuilder();
    const maybe = empty.rule('maybe', g.optional(g.literal('a')));
    const top = empty.rule('top', g.seq(g.literal('['), g.call(maybe), g.literal(']')));
    assert.throws(() => PushdownAutomaton.compile(empty.build(top)), /empty text/);

    const nothing = new GrammarBuilder();
    const loop = nothing.declare('loop');
    nothing.define(loop, g.seq(g.literal('a'), g.call(loop)));
    assert.throws(() => PushdownAutomaton.compile(nothing.build(loop)), /matches no text/);
  });

  it('lists members in order, optional ones in any combination, extras anywhere, within counts', () => {
    const names = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.nat(5),
        fc.option(fc.nat(5), { nil: undefined }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'x'), { maxLength: 7 }),
        (required, withExtra, min, maxOrNone, list) => {
          const max = maxOrNone ?? Infinity;
          const b = new GrammarBuilder();
          const node = g.members(
            names.map((name, i) => ({ node: g.literal(name), required: required[i] })),
            g.literal(','),
            withExtra ? g.literal('x') : undefined,
            min,
            max,
          );
          const start = b.rule('object', g.seq(g.literal('{'), node, g.literal('}')));
          let automaton: PushdownAutomaton;
          try {
            automaton = PushdownAutomaton.compile(b.build(start));
          } catch (error) {
            assert.ok(error instanceof GrammarError);
            return;
          }
          const text = `{${list.join(',')}}`;
          const declared: string[] = list.filter((item) => item !== 'x');
          const inOrder = declared.every((item, i) => i === 0 || names.indexOf(item) > names.indexOf(declared[i - 1]));
          const expected =
            inOrder &&
            (withExtra || !list.includes('x')) &&
            names.every((name, i) => !required[i] || declared.includes(name)) &&
            list.length >= min &&
            list.length <= max;
          assert.equal(matches(automaton, text), expected, `${text} required=${required} extra=${withExtra} min=${min} max=${max}`);
        },
      ),
      { seed: SEED, numRuns: 4000 },
    );
  });

  it('counts a repeated unit instead of copying it, and never lets a unit begin past the count', () => {
    const b = new GrammarBuilder();
    const anyChar = g.chars([
      [0x20, 0x21],
      [0x23, 0x10ffff],
    ]);
    const start = b.rule('string', g.seq(g.literal('"'), g.counted(anyChar, 2, 30_000), g.literal('"')));
    const automaton = PushdownAutomaton.compile(b.build(start));
    for (const text of ['"ab"', '"é😀"', `"${'x'.repeat(30_000)}"`]) assert.ok(matches(automaton, text), text.slice(0, 10));
    for (const text of ['""', '"a"', `"${'x'.repeat(30_001)}"`]) assert.ok(!matches(automaton, text), text.slice(0, 10));
    // At the count's end, not even the first byte of a character may come: it could never end.
    const full = run(automaton, `"${'x'.repeat(30_000)}`);
    assert.equal(automaton.next(full, 0xc3), DEAD);
    assert.equal(automaton.next(full, 0x61), DEAD);
    assert.ok(automaton.accepting(automaton.next(full, 0x22)));
    // A character begun before the end may finish.
    const almost = run(automaton, `"${'x'.repeat(29_999)}`);
    assert.ok(matches(automaton, `"${'x'.repeat(29_999)}é"`));
    assert.notEqual(automaton.next(almost, 0xc3), DEAD);
  });

  it('bounds the ambiguity it follows', () => {
    const b = new GrammarBuilder();
    const x = b.declare('X');
    const y = b.declare('Y');
    // Both rules read the same text: each nesting level doubles the ways to read it.
    b.define(x, g.seq(g.literal('('), g.optional(g.alt(g.call(x), g.call(y))), g.literal(')')));
    b.define(y, g.seq(g.literal('('), g.optional(g.alt(g.call(x), g.call(y))), g.literal(')')));
    const automaton = PushdownAutomaton.compile(b.build(x), { maxStacks: 64 });
    assert.throws(() => run(automaton, '('.repeat(20)), GrammarError);
  });
});

function closing(text: string): string {
  const stack: string[] = [];
  for (const c of text) {
    if (c === '(' || c === '[') stack.push(c === '(' ? ')' : ']');
    else stack.pop();
  }
  return stack.reverse().join('') || '()';
}
