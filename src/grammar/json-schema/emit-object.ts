// An object shape as grammar: declared properties in order (a `members` node: optional ones in any
// combination, linear in their number), undeclared keys as extra members anywhere among them, the
// member count, and a witness member where the shape needs one (`some`).
//
// Undeclared keys are split into cells by which rules speak of them; each cell is a rule of its own
// (its key language and the value all its rules allow). Their keys are written with plain
// characters only (no escapes), so their text is their value and can be told apart from every
// declared key exactly.
import { g } from '../cfg/index.js';
import { type Charged, sharedWork, uncounted } from '../deadline.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { type CodePointSet, difference, normalize } from '../regex/code-point-set.js';
import { STRING_CHAR } from './json-string.js';
import type { Emitter } from './emit.js';
import { Language } from './ir/language.js';
import { and, ANY, keyOf, type Node } from './ir/node.js';
import { type KeyRule, literalKeys, type ObjectShape, valueOf } from './ir/type-set.js';
import { jsonLiteralContent, rawOrShortEscape } from './json-escapes.js';
import { SchemaError } from './schema-error.js';

const MAX_RULES_PER_OBJECT = 6;
const MAX_EXCLUDED_KEY_LENGTH = 60;
/** Printable ASCII but `"` and `\`: the characters of an undeclared key outside any pattern. */
const KEY_CHARS: CodePointSet = [
  [0x20, 0x21],
  [0x23, 0x5b],
  [0x5d, 0x7e],
];

export function emitObject(shape: ObjectShape, emitter: Emitter): GrammarNode {
  if (shape.some) return emitWithWitness(shape, shape.some, emitter);
  return emitPlain(shape, emitter, undefined);
}

/** Some member must be a witness: a declared property holding it, or an undeclared one. */
function emitWithWitness(shape: ObjectShape, some: KeyRule, emitter: Emitter): GrammarNode {
  const options: GrammarNode[] = [];
  for (const { name } of allProps(shape)) {
    if (!some.keys.contains(name)) continue;
    const props = allProps(shape).map((p) => (p.name === name ? { name, value: and(p.value, some.value) } : p));
    options.push(emitPlain({ ...shape, props, required: [...new Set([...shape.required, name])], some: undefined }, emitter, undefined));
  }
  options.push(emitPlain({ ...shape, some: undefined }, emitter, some));
  return g.alt(...options);
}

function emitPlain(shape: ObjectShape, emitter: Emitter, witness: KeyRule | undefined): GrammarNode {
  const { syntax } = emitter;
  const props = allProps(shape);
  const items = props.map(({ name, value }) => {
    const allowed = shape.names && !shape.names.contains(name) ? g.NOTHING : emitter.child(value);
    return { node: g.seq(keyLiteral(name), syntax.colon, allowed), required: shape.required.includes(name) };
  });
  const names = props.map((p) => p.name);
  const cells = undeclaredCells(shape, names, emitter);
  const extra = cells.length === 0 ? undefined : g.alt(...cells.map((cell) => memberRule(cell.keys, cell.value, emitter)));
  let witnessNode: GrammarNode | undefined;
  if (witness) {
    const witnessCells = cells.map((cell) => ({ keys: and2(cell.keys, witness.keys), value: and(cell.value, witness.value) }));
    witnessNode = g.alt(
      ...witnessCells.filter((cell) => cell.keys !== undefined).map((cell) => memberRule(cell.keys!, cell.value, emitter)),
    );
  }
  return syntax.bracketed('{', g.members(items, syntax.comma, extra, shape.min, shape.max, witnessNode), '}');
}

const keyLiterals = new Map<string, Charged<GrammarNode>>();

/** A declared key, each character in every JSON spelling (Python escapes non-ASCII ones). */
function keyLiteral(name: string): GrammarNode {
  if (keyLiterals.size > 10_000) keyLiterals.clear();
  return sharedWork(keyLiterals, name, () => g.seq(g.literal('"'), jsonLiteralContent(name), g.literal('"')));
}

/** Declared properties, then required keys that none declares (their value follows the rules). */
function allProps(shape: ObjectShape): { name: string; value: Node }[] {
  const props = [...shape.props];
  for (const name of shape.required) if (!props.some((p) => p.name === name)) props.push({ name, value: valueOf(shape, name) });
  return props;
}

interface Cell {
  /** A key language (decoded text), or undefined for "any key but the declared ones" (written from a trie). */
  keys: Language | KeyTrie;
  value: Node;
}

/** Undeclared keys split by the rules that speak of them. */
function undeclaredCells(shape: ObjectShape, declared: readonly string[], emitter: Emitter): Cell[] {
  const rules = shape.rules;
  if (rules.length > MAX_RULES_PER_OBJECT)
    throw new SchemaError(`more than ${MAX_RULES_PER_OBJECT} rules on undeclared keys of one object are not supported`, '');
  // The common cases need no automaton: no rule (any key, any value) or one rule for every key.
  if (!shape.names && (rules.length === 0 || (rules.length === 1 && rules[0].keys.universal))) {
    const value = rules.length === 0 ? ANY : rules[0].value;
    if (value.k === 'none') return [];
    const trie = cachedKeyTrie(declared);
    return trie ? [{ keys: trie, value }] : [];
  }
  const excluded = declared.length > 0 ? literalKeys(declared).not() : Language.universal('key');
  const base = shape.names ? shape.names.and(excluded) : excluded;
  const cells: Cell[] = [];
  for (let mask = 0; mask < 1 << rules.length; mask++) {
    let keys = base;
    const values: Node[] = [];
    rules.forEach((rule, i) => {
      if (mask & (1 << i)) {
        keys = keys.and(rule.keys);
        values.push(rule.value);
      } else if (!rule.keys.universal) keys = keys.and(rule.keys.not());
      else keys = keys.and(rule.keys.not());
    });
    const value = and(...values);
    if (value.k === 'none' || keys.isEmpty() || keys.and(Language.of('key', g.repeat(g.chars(KEY_CHARS), 0, Infinity), true)).isEmpty())
      continue;
    if (g.isNothing(emitter.child(value))) continue;
    cells.push({ keys, value });
  }
  void emitter;
  return cells;
}

function and2(keys: Language | KeyTrie, other: Language): Language | KeyTrie | undefined {
  if (keys instanceof Language) {
    const both = keys.and(other);
    return both.isEmpty() ? undefined : both;
  }
  const both = other.and(trieLanguage(keys));
  return both.isEmpty() ? undefined : both;
}

/** Rules of undeclared members, by emitter, then by their key trie (or language) and value: made once each. */
const memberRules = new WeakMap<Emitter, Map<object, Map<string, GrammarNode>>>();

function memberRule(keys: Language | KeyTrie, value: Node, emitter: Emitter): GrammarNode {
  let byKeys = memberRules.get(emitter);
  if (!byKeys) memberRules.set(emitter, (byKeys = new Map()));
  let byValue = byKeys.get(keys);
  if (!byValue) byKeys.set(keys, (byValue = new Map()));
  const known = byValue.get(keyOf(value));
  if (known) return known;
  // The key is a rule of its own, shared by the members of every value with these keys.
  let key = byValue.get('');
  if (!key) {
    const content =
      keys instanceof Language ? keys.and(Language.of('key', g.repeat(g.chars(KEY_CHARS), 0, Infinity), true)).content() : keys.node;
    key = g.isNothing(content) ? g.NOTHING : g.call(emitter.builder.rule('undeclared key', g.seq(g.literal('"'), content, g.literal('"'))));
    byValue.set('', key);
  }
  const rule = g.isNothing(key)
    ? g.NOTHING
    : g.call(emitter.builder.rule('undeclared member', g.seq(key, emitter.syntax.colon, emitter.child(value))));
  byValue.set(keyOf(value), rule);
  return rule;
}

const ALL_CHARS: CodePointSet = [[0, 0x10ffff]];
let anyKeyContent: GrammarNode | undefined;
const anyContent = () => (anyKeyContent ??= uncounted(() => g.pattern(`${STRING_CHAR}*`)));

interface KeyTrie {
  readonly node: GrammarNode;
  readonly names: readonly string[];
}

function trieLanguage(trie: KeyTrie): Language {
  return trie.names.length === 0 ? Language.universal('key') : literalKeys(trie.names).not();
}

/** Key tries by their names, shared by the objects of a grammar (and across grammars, bounded). */
const keyTries = new Map<string, Charged<KeyTrie | undefined>>();

function cachedKeyTrie(names: readonly string[]): KeyTrie | undefined {
  if (keyTries.size >= 1024) keyTries.delete(keyTries.keys().next().value!);
  return sharedWork(keyTries, JSON.stringify(names), () => keyTrie(names));
}

/**
 * Keys none of `names`: either leaving the trie of the names at some node
 * (by a character no name continues with there) and going on freely, or stopping at a node that
 * ends no name. Undefined when a name is too long to exclude this way.
 */
function keyTrie(names: readonly string[]): KeyTrie | undefined {
  if (names.some((name) => [...name].length > MAX_EXCLUDED_KEY_LENGTH)) return undefined;
  interface TrieNode {
    terminal: boolean;
    readonly children: Map<number, TrieNode>;
  }
  const root: TrieNode = { terminal: false, children: new Map() };
  for (const name of names) {
    let node = root;
    for (const char of name) {
      const codePoint = char.codePointAt(0)!;
      let child = node.children.get(codePoint);
      if (!child) node.children.set(codePoint, (child = { terminal: false, children: new Map() }));
      node = child;
    }
    node.terminal = true;
  }
  // Next to the names a character is written raw or as a short escape (\\", \\n, ...), whose
  // meaning is plain; once the key has left every name, anything JSON allows.
  const spellings = new Map<number, GrammarNode>();
  const spelled = (codePoint: number) => {
    let node = spellings.get(codePoint);
    if (!node) spellings.set(codePoint, (node = rawOrShortEscape([[codePoint, codePoint]])));
    return node;
  };
  const children = (node: TrieNode) => [...node.children].filter(([codePoint]) => !g.isNothing(spelled(codePoint)));
  const leaving = (node: TrieNode): GrammarNode =>
    g.alt(
      rawOrShortEscape(difference(ALL_CHARS, normalize([...node.children.keys()].map((c) => [c, c] as const)))),
      ...children(node).map(([codePoint, child]) => g.seq(spelled(codePoint), leaving(child))),
    );
  const stopping = (node: TrieNode): GrammarNode =>
    g.alt(node.terminal ? g.NOTHING : g.EMPTY, ...children(node).map(([codePoint, child]) => g.seq(spelled(codePoint), stopping(child))));
  const node = g.alt(g.seq(leaving(root), anyContent()), stopping(root));
  return g.isNothing(node) ? undefined : { node, names };
}
