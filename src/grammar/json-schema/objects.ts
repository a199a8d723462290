// Objects: declared properties in their order, each optional one present or not, and additional
// members (additionalProperties absent, true or a schema) anywhere among them, as one `members`
// node (linear in the number of properties), with minProperties/maxProperties counted over all.
//
// An additional member's key is written with printable ASCII characters only (no escapes), so its
// text is its value and can be told apart from every declared key exactly; a key that could
// collide is not generated. When that exclusion would nest too deep (very long declared keys), additional members
// are not offered at all, which is sound. The additional member is a rule of its own, so each
// position among the declared ones costs one call, not a copy of the key's automaton.
import { g, type GrammarBuilder } from '../cfg/index.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { isSchemaObject, type Schema } from './keywords.js';
import { type CodePointSet, difference, normalize } from '../regex/code-point-set.js';
import type { JsonSyntax } from './json-syntax.js';
import { mayMatchSomeName } from './string-pattern.js';
import { SchemaError } from './schema-error.js';

const MAX_EXCLUDED_KEY_LENGTH = 60;

export type CompileChild = (schema: unknown, path: string) => GrammarNode;

export function objectNode(schema: Schema, path: string, compileChild: CompileChild, syntax: JsonSyntax, builder: GrammarBuilder): GrammarNode {
  const properties = schema.properties ?? {};
  if (!isSchemaObject(properties)) throw new SchemaError('properties must be an object', `${path}/properties`);
  const required = schema.required ?? [];
  if (!Array.isArray(required) || required.some((name) => typeof name !== 'string')) {
    throw new SchemaError('required must be an array of strings', `${path}/required`);
  }
  checkUnsupported(schema, path);
  const names = [...Object.keys(properties), ...required.filter((name) => !Object.hasOwn(properties, name))];
  const patterned = hasPatternProperties(schema, names, path);
  // With patternProperties an additional key's schema depends on its name: none are offered.
  const additional = patterned ? false : (schema.additionalProperties ?? true);

  const items = names.map((name) => {
    const declared = Object.hasOwn(properties, name);
    const valuePath = declared ? `${path}/properties/${escapePointer(name)}` : `${path}/additionalProperties`;
    // A required property not declared is additional: its value follows additionalProperties as the
    // schema gives it (a narrower default would make the object unsatisfiable).
    const value = compileChild(declared ? properties[name] : (schema.additionalProperties ?? true), valuePath);
    return { node: g.seq(g.literal(JSON.stringify(name)), syntax.colon, value), required: required.includes(name) };
  });
  const { min, max } = propertyCounts(schema, path);
  const extra = additional === false ? undefined : extraMember(names, compileChild(additional, `${path}/additionalProperties`), syntax, builder, path);
  return syntax.bracketed('{', g.members(items, syntax.comma, extra, min, max), '}');
}

/** The call of a rule for one additional member: a key none of `names`, and its value. */
function extraMember(names: readonly string[], value: GrammarNode, syntax: JsonSyntax, builder: GrammarBuilder, path: string): GrammarNode | undefined {
  if (g.isNothing(value)) return undefined;
  const key = keyOutside(names);
  if (key === undefined || g.isNothing(key)) return undefined;
  return g.call(builder.rule(`additional member at ${path || '/'}`, g.seq(g.literal('"'), key, g.literal('"'), syntax.colon, value)));
}

/**
 * patternProperties is supported when no declared or required name can match its patterns (else
 * those values would need both schemas): then it only concerns additional keys, which are not offered.
 */
function hasPatternProperties(schema: Schema, names: readonly string[], path: string): boolean {
  const patternProperties = schema.patternProperties;
  if (patternProperties === undefined) return false;
  if (!isSchemaObject(patternProperties)) throw new SchemaError('patternProperties must be an object', `${path}/patternProperties`);
  for (const pattern of Object.keys(patternProperties)) {
    const keyPath = `${path}/patternProperties/${escapePointer(pattern)}`;
    if (mayMatchSomeName(pattern, names, keyPath)) {
      throw new SchemaError('patternProperties matching a declared property is not supported', keyPath);
    }
  }
  return Object.keys(patternProperties).length > 0;
}

function checkUnsupported(schema: Schema, path: string): void {
  const names = schema.propertyNames;
  const trivial = names === true || (isSchemaObject(names) && Object.keys(names).every((k) => k === 'type' && names.type === 'string'));
  if (names !== undefined && !trivial) throw new SchemaError('propertyNames is not supported', `${path}/propertyNames`);
}

function propertyCounts(schema: Schema, path: string): { min: number; max: number } {
  for (const key of ['minProperties', 'maxProperties']) {
    const value = schema[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
    }
  }
  return { min: (schema.minProperties as number | undefined) ?? 0, max: (schema.maxProperties as number | undefined) ?? Infinity };
}

/** Printable ASCII but `"` and `\\`: the characters of an additional member's key. */
const KEY_CHARS: CodePointSet = [[0x20, 0x21], [0x23, 0x5b], [0x5d, 0x7e]];

/**
 * The content of a key that is none of `names`, spelled with KEY_CHARS only (no escapes), so its
 * text is its value and cannot spell a declared name; undefined when a name is too long to exclude.
 * Built on the trie of the names: a key either leaves the trie at some node (by a character that
 * no name continues with there) and then goes on freely, or stops at a node that ends no name.
 */
function keyOutside(names: readonly string[]): GrammarNode | undefined {
  if (names.some((name) => [...name].length > MAX_EXCLUDED_KEY_LENGTH)) return undefined;
  interface Node {
    terminal: boolean;
    readonly children: Map<number, Node>;
  }
  const root: Node = { terminal: false, children: new Map() };
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
  const keyChar = (codePoint: number) => KEY_CHARS.some(([lo, hi]) => codePoint >= lo && codePoint <= hi);
  // Leaving: the path to a node, then a character none of its children has.
  const leaving = (node: Node): GrammarNode =>
    g.alt(
      g.chars(subtract(KEY_CHARS, [...node.children.keys()])),
      ...[...node.children].filter(([codePoint]) => keyChar(codePoint)).map(([codePoint, child]) => g.seq(g.literal(String.fromCodePoint(codePoint)), leaving(child))),
    );
  // Stopping: the path to a node that ends no name.
  const stopping = (node: Node): GrammarNode =>
    g.alt(
      node.terminal ? g.NOTHING : g.EMPTY,
      ...[...node.children].filter(([codePoint]) => keyChar(codePoint)).map(([codePoint, child]) => g.seq(g.literal(String.fromCodePoint(codePoint)), stopping(child))),
    );
  return g.alt(g.seq(leaving(root), g.repeat(g.chars(KEY_CHARS), 0, Infinity)), stopping(root));
}

function subtract(set: CodePointSet, codePoints: readonly number[]): CodePointSet {
  return difference(set, normalize(codePoints.map((c) => [c, c] as const)));
}

export function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
