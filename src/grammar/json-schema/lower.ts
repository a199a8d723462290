// JSON Schema -> the intermediate form (ir/): each keyword becomes a constraint on the types it
// speaks of, combined with and; anyOf is or, oneOf is "this branch and none of the others"
// (plain or when the branches are clearly disjoint), not is not, if/then/else and dependencies
// are implications. $ref targets are definitions, lowered on first use, so recursion stays finite.
import { g } from '../cfg/index.js';
import { compileStep } from '../deadline.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { dfaNode } from '../regular/index.js';
import { decimalOf } from './decimal.js';
import { Language } from './ir/language.js';
import { and, ANY, at, Definition, not, NONE, type Node, or, ref, types } from './ir/node.js';
import {
  ALL_TYPES,
  type ArrayShape,
  NO_TYPES,
  type ObjectShape,
  OPEN_ARRAY,
  OPEN_OBJECT,
  type TypeSet,
  type KeyRule,
} from './ir/type-set.js';
import { isSchemaObject, JSON_TYPES, type JsonType, type Schema } from './keywords.js';
import { STRING_CHAR } from './json-string.js';
import { jsonLiteralContent } from './json-escapes.js';
import { numberLanguage } from './numbers.js';
import { branchesDisjoint } from './one-of.js';
import { resolveRef } from './refs.js';
import { SchemaError } from './schema-error.js';
import { formatContent } from './string-formats.js';
import { patternLanguageNode } from './string-pattern.js';

const MAX_STEPS = 50_000;
const MAX_DEPTH = 200;
/** Lengths combined with patterns or negated are counted up to this: beyond, a narrowing, flagged inexact. */
const MAX_COUNTED_LENGTH = 1000;

/** Standard keywords it does not enforce: refused by name. */
const REFUSED = new Set(['unevaluatedProperties', 'unevaluatedItems', '$dynamicRef', '$recursiveRef']);
const ANY_CHAR: GrammarNode = g.chars([[0, 0x10ffff]]);
const STRING_CHAR_NODE: GrammarNode = g.pattern(STRING_CHAR);

export interface LoweringOptions {
  /** An integer may be written with a zero fraction where the draft allows it (default true). */
  integerFraction?: boolean;
  /** Integers stay within ±(2^53-1) where the schema bounds them less (default false). */
  safeIntegers?: boolean;
}

export class Lowering {
  private steps = 0;
  private depth = 0;
  private readonly memo = new WeakMap<object, Node>();
  private readonly definitions = new Map<string, Definition>();
  /** Drafts 4 to 7 ignore every keyword beside $ref; later ones apply them too. */
  private readonly refSiblingsIgnored: boolean;
  /**
   * Drafts 6 and later count 1.0 as an integer; drafts 3 and 4 do not. Generation writes integers
   * without fraction whatever the draft (`integerFraction` false).
   */
  private readonly zeroFractionIntegers: boolean;
  private readonly safeIntegers: boolean;

  constructor(
    private readonly root: unknown,
    options: LoweringOptions = {},
  ) {
    const version = isSchemaObject(root) && typeof root.$schema === 'string' ? root.$schema : '';
    this.refSiblingsIgnored = /draft-0[3-7]/.test(version);
    this.zeroFractionIntegers = (options.integerFraction ?? true) && !/draft-0[34]/.test(version);
    this.safeIntegers = options.safeIntegers ?? false;
  }

  lower(schema: unknown, path: string): Node {
    if (schema === true) return ANY;
    if (schema === false) return NONE;
    if (!isSchemaObject(schema)) throw new SchemaError('a schema must be an object or a boolean', path);
    const known = this.memo.get(schema);
    if (known) return known;
    if (++this.steps > MAX_STEPS) throw new SchemaError('the schema is too large to compile', '');
    compileStep();
    if (this.depth >= MAX_DEPTH) throw new SchemaError('the schema nests too deeply', path);
    this.depth++;
    try {
      const node = this.lowerObject(schema, path);
      this.memo.set(schema, node);
      return node;
    } finally {
      this.depth--;
    }
  }

  private lowerObject(schema: Schema, path: string): Node {
    for (const key of Object.keys(schema)) {
      if (REFUSED.has(key)) throw new SchemaError(`keyword ${key} is not supported`, `${path}/${key}`);
    }
    const parts: Node[] = [];
    if (schema.$ref !== undefined) {
      const target = this.reference(schema.$ref, path);
      if (this.refSiblingsIgnored) return target;
      parts.push(target);
    }
    parts.push(this.typed(schema, path));
    if (schema.allOf !== undefined)
      parts.push(...this.list(schema.allOf, `${path}/allOf`).map((s, i) => this.lower(s, `${path}/allOf/${i}`)));
    if (schema.anyOf !== undefined)
      parts.push(or(...this.list(schema.anyOf, `${path}/anyOf`).map((s, i) => this.lower(s, `${path}/anyOf/${i}`))));
    if (schema.oneOf !== undefined) parts.push(this.oneOf(this.list(schema.oneOf, `${path}/oneOf`), `${path}/oneOf`));
    if (schema.not !== undefined) parts.push(at(not(this.lower(schema.not, `${path}/not`)), `${path}/not`));
    if (schema.if !== undefined && (schema.then !== undefined || schema.else !== undefined)) {
      const condition = this.lower(schema.if, `${path}/if`);
      const then = schema.then === undefined ? ANY : this.lower(schema.then, `${path}/then`);
      const otherwise = schema.else === undefined ? ANY : this.lower(schema.else, `${path}/else`);
      parts.push(at(or(and(condition, then), and(not(condition), otherwise)), `${path}/if`));
    }
    parts.push(...this.dependencies(schema, path));
    return at(and(...parts), path);
  }

  private list(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value) || value.length === 0) throw new SchemaError('must be a non-empty array', path);
    return value;
  }

  private reference(refValue: unknown, path: string): Node {
    const target = resolveRef(this.root, refValue, path);
    const key = refValue as string;
    let def = this.definitions.get(key);
    if (!def) {
      const pointer = decodeURIComponent(key.slice(1));
      def = new Definition(key, () => this.lower(target, pointer));
      this.definitions.set(key, def);
    }
    return at(ref(def), `${path}/$ref`);
  }

  /** Exactly one branch: plain or when no value can meet two of them. */
  private oneOf(branches: unknown[], path: string): Node {
    const nodes = branches.map((s, i) => this.lower(s, `${path}/${i}`));
    if (nodes.length === 1) return nodes[0];
    if (branchesDisjoint(branches.map((b) => this.inlineRef(b)))) return or(...nodes);
    return at(or(...nodes.map((node, i) => and(node, ...nodes.filter((_, j) => j !== i).map(not)))), path);
  }

  private inlineRef(schema: unknown): unknown {
    for (let hops = 0; isSchemaObject(schema) && schema.$ref !== undefined && hops < 8; hops++) {
      try {
        schema = resolveRef(this.root, schema.$ref, '');
      } catch {
        return schema;
      }
    }
    return schema;
  }

  private dependencies(schema: Schema, path: string): Node[] {
    const out: Node[] = [];
    const add = (key: string, value: unknown, keyPath: string) => {
      if (Array.isArray(value)) {
        if (value.some((name) => typeof name !== 'string')) throw new SchemaError('dependent property names must be strings', keyPath);
        out.push(at(or(notAnObject(), lacking(key), objectWith({ required: value as string[] })), keyPath));
      } else out.push(at(or(notAnObject(), lacking(key), this.lower(value, keyPath)), keyPath));
    };
    for (const keyword of ['dependencies', 'dependentRequired', 'dependentSchemas']) {
      const map = schema[keyword];
      if (map === undefined) continue;
      if (!isSchemaObject(map)) throw new SchemaError(`${keyword} must be an object`, `${path}/${keyword}`);
      for (const [key, value] of Object.entries(map)) add(key, value, `${path}/${keyword}/${escapePointer(key)}`);
    }
    return out;
  }

  /** type, enum/const and the keywords of each type. */
  private typed(schema: Schema, path: string): Node {
    const declared = schema.type === undefined ? undefined : typesOf(schema.type, path);
    const has = (type: JsonType) =>
      declared === undefined || declared.includes(type) || (type === 'integer' && declared.includes('number'));
    const numbers =
      has('number') || has('integer')
        ? this.numberLanguage(schema, !(declared === undefined || declared.includes('number')), path)
        : undefined;
    const set: TypeSet = {
      null: has('null'),
      true: has('boolean'),
      false: has('boolean'),
      number: numbers,
      string: has('string') ? this.stringLanguage(schema, path) : undefined,
      objects: has('object') ? [OBJECT_KEYWORDS.some((k) => schema[k] !== undefined) ? this.objectShape(schema, path) : OPEN_OBJECT] : [],
      arrays: has('array') ? (ARRAY_KEYWORDS.some((k) => schema[k] !== undefined) ? this.arrayShapes(schema, path) : [OPEN_ARRAY]) : [],
    };
    const typedNode = declared === undefined && !hasTypeKeywords(schema) ? ANY : types(set);
    if (Object.hasOwn(schema, 'const')) return and(typedNode, literal(schema.const));
    if (schema.enum !== undefined) {
      if (!Array.isArray(schema.enum)) throw new SchemaError('enum must be an array', `${path}/enum`);
      return and(typedNode, or(...schema.enum.map(literal)));
    }
    return typedNode;
  }

  private numberLanguage(schema: Schema, integer: boolean, path: string): Language {
    const hasKeywords = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'format'].some(
      (k) => schema[k] !== undefined,
    );
    if (!integer && !hasKeywords) return Language.universal('number');
    const language = numberLanguage(schema, integer, path, this.zeroFractionIntegers, this.safeIntegers);
    const exact = language.exact;
    return 'pattern' in language
      ? Language.of('number', g.pattern(language.pattern), exact)
      : Language.fromDfa('number', language.dfa, exact);
  }

  private stringLanguage(schema: Schema, path: string): Language {
    const atoms: Language[] = [];
    const min = count(schema, 'minLength', path) ?? 0;
    const max = count(schema, 'maxLength', path);
    if (max !== undefined && max < min) return Language.of('string', g.NOTHING, true);
    if (min > 0 || max !== undefined) {
      // The JSON form counts characters (an escape is one) exactly, to any length. The decoded form,
      // which products and complements use, stops at MAX_COUNTED_LENGTH: beyond it, not exact.
      const upper = Math.min(max ?? Infinity, MAX_COUNTED_LENGTH);
      const json = g.counted(STRING_CHAR_NODE, min, max ?? Infinity);
      atoms.push(Language.of('string', g.repeat(ANY_CHAR, min, upper), max === undefined || max <= MAX_COUNTED_LENGTH, json));
    }
    if (schema.pattern !== undefined) {
      const { node, exact } = patternLanguageNode(schema.pattern, `${path}/pattern`);
      atoms.push(Language.of('string', node, exact));
    }
    const format = formatContent(schema.format, path);
    if (format !== undefined) atoms.push(Language.of('string', g.pattern(format), false));
    if (atoms.length === 0) return Language.universal('string');
    return atoms.reduce((a, b) => a.and(b));
  }

  private objectShape(schema: Schema, path: string): ObjectShape {
    const properties = schema.properties ?? {};
    if (!isSchemaObject(properties)) throw new SchemaError('properties must be an object', `${path}/properties`);
    const required = schema.required ?? [];
    if (!Array.isArray(required) || required.some((name) => typeof name !== 'string'))
      throw new SchemaError('required must be an array of strings', `${path}/required`);
    const patternProperties = schema.patternProperties ?? {};
    if (!isSchemaObject(patternProperties)) throw new SchemaError('patternProperties must be an object', `${path}/patternProperties`);
    const patterns = Object.entries(patternProperties).map(([pattern, value]) => {
      const keyPath = `${path}/patternProperties/${escapePointer(pattern)}`;
      const { node, exact } = patternLanguageNode(pattern, keyPath);
      if (!exact) throw new SchemaError('a patternProperties pattern with anchors inside alternatives is not supported', keyPath);
      return { keys: Language.of('key', node, true), value: this.lower(value, keyPath) };
    });
    const additional =
      schema.additionalProperties === undefined ? ANY : this.lower(schema.additionalProperties, `${path}/additionalProperties`);
    const rules: KeyRule[] = [...patterns];
    if (additional.k !== 'any') {
      const keys =
        patterns.length === 0
          ? Language.universal('key')
          : patterns
              .map((p) => p.keys)
              .reduce((a, b) => a.or(b))
              .not();
      rules.push({ keys, value: additional });
    }
    const names = [...Object.keys(properties), ...(required as string[]).filter((name) => !Object.hasOwn(properties, name))];
    const props = names.map((name) => {
      const matching = patterns.filter((p) => p.keys.contains(name)).map((p) => p.value);
      const own = Object.hasOwn(properties, name) ? this.lower(properties[name], `${path}/properties/${escapePointer(name)}`) : ANY;
      const rest = Object.hasOwn(properties, name) || matching.length > 0 ? ANY : additional;
      return { name, value: and(own, ...matching, rest) };
    });
    return {
      props,
      required: required as string[],
      rules,
      names: this.propertyNames(schema.propertyNames, `${path}/propertyNames`),
      min: count(schema, 'minProperties', path) ?? 0,
      max: count(schema, 'maxProperties', path) ?? Infinity,
    };
  }

  /** propertyNames as a language of keys: the string keywords of its schema. */
  private propertyNames(schema: unknown, path: string): Language | undefined {
    if (schema === undefined || schema === true) return undefined;
    if (schema === false) return Language.of('key', g.NOTHING, true);
    if (!isSchemaObject(schema)) throw new SchemaError('propertyNames must be a schema', path);
    const allowed = new Set(['type', 'minLength', 'maxLength', 'pattern', 'format', 'enum', 'const']);
    const other = Object.keys(schema).find((key) => !allowed.has(key) && (ENFORCED_KEYS.has(key) || REFUSED.has(key)));
    if (other !== undefined)
      throw new SchemaError(`propertyNames is supported with string keywords only, not ${other}`, `${path}/${other}`);
    let keys = this.stringLanguage(schema, path);
    const values = Object.hasOwn(schema, 'const') ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
    if (values)
      keys = keys.and(
        Language.of('string', g.alt(...values.filter((v): v is string => typeof v === 'string').map((v) => g.literal(v))), true),
      );
    return keys.universal ? undefined : Language.fromDfa('key', keys.dfa(), keys.exact);
  }

  private arrayShapes(schema: Schema, path: string): ArrayShape[] {
    let prefix: unknown[] = [];
    let prefixPath = `${path}/prefixItems`;
    let rest: unknown = schema.items ?? true;
    let restPath = `${path}/items`;
    if (Array.isArray(schema.prefixItems)) {
      prefix = schema.prefixItems;
    } else if (Array.isArray(schema.items)) {
      prefix = schema.items;
      prefixPath = `${path}/items`;
      rest = schema.additionalItems ?? true;
      restPath = `${path}/additionalItems`;
    }
    const min = count(schema, 'minItems', path) ?? 0;
    const max = count(schema, 'maxItems', path) ?? Infinity;
    if (schema.uniqueItems === true && max > 1)
      throw new SchemaError('uniqueItems is not supported (beyond arrays of at most one item)', `${path}/uniqueItems`);
    let contains: ArrayShape['contains'];
    if (schema.contains !== undefined) {
      const low = count(schema, 'minContains', path) ?? 1;
      const high = count(schema, 'maxContains', path) ?? Infinity;
      contains = { value: this.lower(schema.contains, `${path}/contains`), min: low, max: high, from: 0 };
    }
    return [
      {
        prefix: prefix.map((item, i) => this.lower(item, `${prefixPath}/${i}`)),
        items: this.lower(rest, restPath),
        min,
        max,
        contains,
        unique: schema.uniqueItems === true,
      },
    ];
  }
}

const ENFORCED_KEYS = new Set([
  'enum',
  'const',
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'patternProperties',
  'propertyNames',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
]);

const OBJECT_KEYWORDS = [
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'patternProperties',
  'propertyNames',
];
const ARRAY_KEYWORDS = ['items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'contains'];

const TYPE_KEYWORDS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'patternProperties',
  'propertyNames',
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
];

function hasTypeKeywords(schema: Schema): boolean {
  return TYPE_KEYWORDS.some((key) => schema[key] !== undefined);
}

function typesOf(value: unknown, path: string): JsonType[] {
  const list = Array.isArray(value) ? value : [value];
  for (const type of list) {
    if (!(JSON_TYPES as readonly unknown[]).includes(type))
      throw new SchemaError(`type ${JSON.stringify(type)} is not a JSON Schema type`, `${path}/type`);
  }
  return list as JsonType[];
}

function count(schema: Schema, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
  return value;
}

/** Exactly one JSON value. */
function literal(value: unknown): Node {
  if (value === null) return types({ ...NO_TYPES, null: true });
  if (value === true || value === false) return types({ ...NO_TYPES, true: value, false: !value });
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return NONE;
    const d = decimalOf(value);
    const text = `${d.negative ? '-' : ''}${d.int}${d.frac ? `.${d.frac}` : ''}`;
    return types({ ...NO_TYPES, number: Language.of('number', g.literal(text), true) });
  }
  if (typeof value === 'string') {
    return types({ ...NO_TYPES, string: Language.of('string', g.literal(value), true, jsonLiteralContent(value)) });
  }
  if (Array.isArray(value)) {
    return types({
      ...NO_TYPES,
      arrays: [{ prefix: value.map(literal), items: NONE, min: value.length, max: value.length, unique: false }],
    });
  }
  if (isSchemaObject(value)) {
    const entries = Object.entries(value);
    const shape: ObjectShape = {
      props: entries.map(([name, item]) => ({ name, value: literal(item) })),
      required: entries.map(([name]) => name),
      rules: [{ keys: Language.universal('key'), value: NONE }],
      min: entries.length,
      max: entries.length,
    };
    return types({ ...NO_TYPES, objects: [shape] });
  }
  return NONE;
}

function notAnObject(): Node {
  return types({ ...ALL_TYPES, objects: [] });
}

function lacking(key: string): Node {
  return objectWith({ props: [{ name: key, value: NONE }] });
}

function objectWith(parts: Partial<ObjectShape>): Node {
  return types({ ...NO_TYPES, objects: [{ ...OPEN_OBJECT, ...parts }] });
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

void dfaNode;
