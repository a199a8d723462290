// Regular languages of scalar texts: numbers by their JSON text, strings and object keys by their
// decoded text (the UTF-8 of the characters, as patterns and lengths speak of them). A language
// keeps the regex it was built from where it has one, and builds its DFA only when it must be
// combined with another. `exact` says the language holds every valid text of its universe (below),
// which is what makes its complement sound: the complement of a narrowed language would widen.
import { g } from '../../cfg/index.js';
import type { GrammarNode } from '../../cfg/nodes.js';
import type { ExplicitDfa } from '../../regex/explicit-dfa.js';
import { type Charged, sharedWork, uncounted } from '../../deadline.js';
import { RegexAutomaton } from '../../regex/dfa.js';
import { buildNfa } from '../../regex/nfa.js';
import { type DfaLike, determinize, dfaNode, isEmpty, lazy, minimize, product, RegularError } from '../../regular/index.js';
import { STRING_CHAR } from '../json-string.js';
import { jsonContent, PLAIN_SET } from '../json-escapes.js';
import { SchemaError } from '../schema-error.js';

export type LanguageKind = 'number' | 'string' | 'key';

const ANY_TEXT: GrammarNode = g.repeat(g.chars([[0, 0x10ffff]]), 0, Infinity);
const MAX_STATES = 20_000;

/**
 * The universe a complement is taken in. Strings and keys: every text. Numbers: texts without
 * exponent of at most 15 significant digits whose fraction, if any, ends in a non-zero digit. On
 * those, comparing decimals is comparing doubles (no two such texts round to one double, and
 * none rounds to another shortest-form bound), so the exact languages of ranges are exact there,
 * and "1.0" (an integer to some validators, not to others) is left out.
 */
function universeNode(kind: LanguageKind): GrammarNode {
  if (kind !== 'number') return ANY_TEXT;
  const digit = g.chars([[0x30, 0x39]]);
  const nonZero = g.chars([[0x31, 0x39]]);
  const fraction = (room: number) => (room < 1 ? g.EMPTY : g.optional(g.seq(g.literal('.'), g.repeat(digit, 0, room - 1), nonZero)));
  const options = [g.seq(g.literal('0'), fraction(15))];
  for (let length = 1; length <= 15; length++) options.push(g.seq(nonZero, g.repeat(digit, length - 1, length - 1), fraction(15 - length)));
  return g.seq(g.optional(g.literal('-')), g.alt(...options));
}

const universes = new Map<LanguageKind, Charged<ExplicitDfa>>();
function universe(kind: LanguageKind): ExplicitDfa {
  return sharedWork(universes, kind, () => minimize(determinize(universeNode(kind), MAX_STATES)));
}

export class NotExact extends Error {}

export class Language {
  private built: ExplicitDfa | undefined;
  private matcher: RegexAutomaton | undefined;

  private constructor(
    readonly kind: LanguageKind,
    /** A regex node for the language, when it was built from one. */
    private readonly source: GrammarNode | undefined,
    dfa: ExplicitDfa | undefined,
    readonly exact: boolean,
    readonly universal: boolean,
    /** Strings: the JSON content (between the quotes, escapes included) where it is known directly. */
    private readonly json: GrammarNode | undefined,
  ) {
    this.built = dfa;
  }

  static universal(kind: LanguageKind, json?: GrammarNode): Language {
    return new Language(kind, undefined, undefined, true, true, json);
  }

  /** The language of a regex node (over a number's text, or a string's decoded text). */
  static of(kind: LanguageKind, node: GrammarNode, exact: boolean, json?: GrammarNode): Language {
    return new Language(kind, node, undefined, exact, false, json);
  }

  static fromDfa(kind: LanguageKind, dfa: ExplicitDfa, exact: boolean): Language {
    return new Language(kind, undefined, dfa, exact, false, undefined);
  }

  dfa(): ExplicitDfa {
    if (this.built) return this.built;
    try {
      const dfa = determinize(this.source ?? universeNode(this.kind), MAX_STATES);
      this.built = dfa.stateCount <= MINIMIZED_STATES ? minimize(dfa) : dfa;
    } catch (error) {
      if (error instanceof RegularError)
        throw new SchemaError(`a ${this.kind} constraint is too complex to combine with others: ${error.message}`, '');
      throw error;
    }
    return this.built;
  }

  isEmpty(): boolean {
    if (this.universal) return false;
    if (this.source && g.isNothing(this.source)) return true;
    return this.built !== undefined && isEmpty(this.built);
  }

  and(other: Language): Language {
    if (this.universal) return other;
    if (other.universal) return this;
    // A side known only by its regex is stepped lazily: a product reaches few of its states.
    const [a, b] = this.built || !this.source ? [this, other] : [other, this];
    const right = b.built || !b.source ? b.dfa() : lazy(b.source);
    return Language.fromDfa(this.kind, combine(a.built || !a.source ? a.dfa() : lazy(a.source), right, 'and'), this.exact && other.exact);
  }

  or(other: Language): Language {
    if (this.universal || other.universal) return Language.universal(this.kind, this.universal ? this.json : other.json);
    const exact = this.exact && other.exact;
    if (this.source && other.source) {
      const json = this.json && other.json ? g.alt(this.json, other.json) : undefined;
      return new Language(this.kind, g.alt(this.source, other.source), undefined, exact, false, json);
    }
    return Language.fromDfa(this.kind, combine(this.dfa(), other.dfa(), 'or'), exact);
  }

  /** The union of several languages of one kind, in one alternation when all are regular expressions. */
  static orAll(languages: readonly Language[]): Language {
    if (languages.length === 1 || languages.some((l) => l.universal) || !languages.every((l) => l.source))
      return languages.reduce((a, b) => a.or(b));
    const exact = languages.every((l) => l.exact);
    const json = languages.every((l) => l.json) ? g.alt(...languages.map((l) => l.json!)) : undefined;
    return new Language(languages[0].kind, g.alt(...languages.map((l) => l.source!)), undefined, exact, false, json);
  }

  /** The texts of the universe outside the language. Throws NotExact for a narrowed language. */
  not(): Language {
    if (!this.exact) throw new NotExact();
    if (this.universal) return Language.fromDfa(this.kind, { ...universe(this.kind), start: -1 }, true);
    return Language.fromDfa(this.kind, combine(universe(this.kind), this.dfa(), 'and-not'), true);
  }

  /** Whether `text` (a key or a string's decoded text) is in the language. */
  contains(text: string): boolean {
    if (this.universal) return true;
    if (!this.matcher) this.matcher = RegexAutomaton.fromNfa(buildNfa(this.source ?? dfaNode(this.dfa())));
    return this.matcher.matches(text);
  }

  /** Numbers: the node of their text. Strings: the node of the JSON string, quotes included. */
  emit(): GrammarNode {
    if (this.kind === 'number')
      return this.universal
        ? g.pattern('-?(?:0|[1-9]\\d{0,199})(?:\\.\\d{1,300})?(?:[eE][+-]?\\d{1,2})?')
        : (this.source ?? dfaNode(this.dfa()));
    return g.seq(g.literal('"'), this.content(), g.literal('"'));
  }

  /**
   * Strings and keys: what goes between the quotes, every JSON spelling of each character where
   * the language has a regex; a language known only as an automaton is written with plain
   * characters (no escapes), a sound narrowing.
   */
  content(): GrammarNode {
    if (this.json) return this.json;
    if (this.universal) return (anyContent ??= uncounted(() => g.pattern(`${STRING_CHAR}*`)));
    if (this.source) return jsonContent(this.source);
    return dfaNode(combine(this.dfa(), lazy(PLAIN_TEXT), 'and'));
  }
}

let anyContent: GrammarNode | undefined;
const PLAIN_TEXT = g.repeat(g.chars(PLAIN_SET), 0, Infinity);

/** Products are minimized while that is cheap; large ones (long counted strings) rarely shrink. */
const MINIMIZED_STATES = 512;

function combine(a: ExplicitDfa | DfaLike, b: ExplicitDfa | DfaLike, mode: 'and' | 'or' | 'and-not'): ExplicitDfa {
  try {
    const result = product(a, b, mode, MAX_STATES);
    return result.stateCount <= MINIMIZED_STATES ? minimize(result) : result;
  } catch (error) {
    if (error instanceof RegularError)
      throw new SchemaError(`constraints on one value combine into too large an automaton: ${error.message}`, '');
    throw error;
  }
}
