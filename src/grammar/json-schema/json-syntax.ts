// JSON's own syntax as grammar nodes: whitespace between tokens, punctuation, strings, numbers,
// and the rule for any JSON value (recursive: objects and arrays nest to any depth).
import { g, type GrammarBuilder } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { ANY_STRING } from './json-string.js';
import { ANY_NUMBER } from './numbers.js';

/**
 * Whitespace between JSON tokens. `flexible`: up to WHITESPACE_LIMIT spaces, tabs and newlines
 * between any two tokens and around the text, enough for 2-space indentation nested about 15 deep
 * (what the checker can be asked to accept). `compact`: what generation uses, so that a model cannot
 * spend its tokens on whitespace: one optional space after `,` and after `:` (Python's `json.dumps`
 * separators, or none at all as in `JSON.stringify`), and no other whitespace, none around the text.
 */
export type WhitespaceMode = 'flexible' | 'compact';
const WHITESPACE_LIMIT = 32;

export class JsonSyntax {
  readonly ws: GrammarNode;
  /** Whitespace before and after a whole JSON text (none in compact mode). */
  readonly outer: GrammarNode;
  /** `,` between elements and members, with whitespace around. */
  readonly comma: GrammarNode;
  /** `:` between a key and its value, with whitespace around. */
  readonly colon: GrammarNode;
  readonly string: GrammarNode = g.pattern(ANY_STRING);
  readonly number: GrammarNode;
  /**
   * Whether an `integer` may be written with a zero fraction (`5.0`), which drafts 6 and later count
   * as an integer. Flexible mode follows the draft; compact mode writes integers in integer syntax
   * (`-?(0|[1-9][0-9]*)`), which every JSON parser reads as an integer.
   */
  readonly integerFraction: boolean;
  /**
   * Whether integers stay within ±(2^53-1) where the schema bounds them less: compact mode, so that
   * a model cannot write hundreds of digits, and JavaScript reads
   * every generated integer exactly.
   */
  readonly safeIntegers: boolean;
  private readonly opening = new Map<string, GrammarNode>();
  private readonly closing = new Map<string, GrammarNode>();
  private anyRule: number | undefined;

  /**
   * Flexible whitespace is an automaton of WHITESPACE_LIMIT states: punctuation with whitespace
   * around is then a rule of its own, called where it occurs, instead of a copy at each place.
   */
  constructor(
    private readonly builder: GrammarBuilder,
    private readonly mode: WhitespaceMode,
  ) {
    const compact = mode === 'compact';
    this.ws = compact
      ? g.EMPTY
      : g.repeat(
          g.chars([
            [0x09, 0x0a],
            [0x0d, 0x0d],
            [0x20, 0x20],
          ]),
          0,
          WHITESPACE_LIMIT,
        );
    this.outer = this.ws;
    this.integerFraction = !compact;
    this.safeIntegers = compact;
    const after = compact ? g.optional(g.literal(' ')) : this.ws;
    this.comma = this.punctuation('comma', g.seq(this.ws, g.literal(','), after));
    this.colon = this.punctuation('colon', g.seq(this.ws, g.literal(':'), after));
    this.number = g.call(builder.rule('number', g.pattern(ANY_NUMBER)));
  }

  /** `open ws content ws close`, or `open ws close` when content is empty. */
  bracketed(open: string, content: GrammarNode, close: string): GrammarNode {
    const start =
      this.opening.get(open) ?? this.remember(this.opening, open, this.punctuation(`${open} `, g.seq(g.literal(open), this.ws)));
    const end =
      this.closing.get(close) ?? this.remember(this.closing, close, this.punctuation(` ${close}`, g.seq(this.ws, g.literal(close))));
    if (content.type === 'empty') return g.seq(start, end);
    return g.seq(start, content, end);
  }

  private punctuation(name: string, node: GrammarNode): GrammarNode {
    return this.mode === 'compact' ? node : g.call(this.builder.rule(name, node));
  }

  private remember(map: Map<string, GrammarNode>, key: string, node: GrammarNode): GrammarNode {
    map.set(key, node);
    return node;
  }

  /** Any JSON value: a call of one recursive rule shared by the whole grammar. */
  anyValue(): GrammarNode {
    if (this.anyRule === undefined) {
      const rule = this.builder.declare('any JSON value');
      this.anyRule = rule;
      const value = g.call(rule);
      const member = g.seq(this.string, this.colon, value);
      const object = this.bracketed('{', g.optional(g.seq(member, g.repeat(g.seq(this.comma, member), 0, Infinity))), '}');
      const array = this.bracketed('[', g.optional(g.seq(value, g.repeat(g.seq(this.comma, value), 0, Infinity))), ']');
      this.builder.define(rule, g.alt(object, array, this.string, this.number, g.literal('true'), g.literal('false'), g.literal('null')));
    }
    return g.call(this.anyRule);
  }
}
