// The recursive walk: one schema -> a grammar node for its JSON texts. Each $ref target (with the
// keywords beside the $ref merged in) becomes one rule, called wherever it is referenced, so
// recursive schemas recurse to any depth and a definition used many times is compiled once; allOf
// is merged; anyOf/oneOf alternate, with the keywords beside them distributed into each branch.
import { g, GrammarBuilder } from '../cfg/index.js';
import type { Grammar } from '../cfg/grammar.js';
import type { GrammarNode } from '../cfg/nodes.js';
import { arrayNode } from './arrays.js';
import { nodeSize } from '../cfg/size.js';
import { lengthBoundedString } from './json-string.js';
import { JsonSyntax, type WhitespaceMode } from './json-syntax.js';
import { constraintKeys, isSchemaObject, UNENFORCEABLE, JSON_TYPES, type JsonType, type Schema } from './keywords.js';
import { mergeSchemas } from './merge.js';
import { numberLanguage } from './numbers.js';
import { dfaNode } from '../regular/index.js';
import { objectNode } from './objects.js';
import { branchesDisjoint } from './one-of.js';
import { resolveRef } from './refs.js';
import { SchemaError } from './schema-error.js';
import { formatContent } from './string-formats.js';
import { patternContent } from './string-pattern.js';

const MAX_STEPS = 50_000;
const SHARED_NODE_SIZE = 24;
const MAX_DEPTH = 200;

export class SchemaCompiler {
  private steps = 0;
  private depth = 0;
  private readonly builder = new GrammarBuilder();
  private readonly syntax: JsonSyntax;
  /** The rule of each $ref (with its sibling keywords), by key. */
  private readonly refRules = new Map<string, number>();

  constructor(
    private readonly root: unknown,
    whitespace: WhitespaceMode,
  ) {
    this.syntax = new JsonSyntax(this.builder, whitespace);
  }

  /** The grammar of JSON texts valid under the root schema, whitespace around allowed. */
  grammar(): Grammar {
    const value = this.compile(this.root, '');
    const start = this.builder.rule('JSON text', g.seq(this.syntax.ws, value, this.syntax.ws));
    return this.builder.build(start);
  }

  compile(schema: unknown, path: string): GrammarNode {
    if (++this.steps > MAX_STEPS) throw new SchemaError('the schema is too large to compile', '');
    if (this.depth >= MAX_DEPTH) throw new SchemaError('the schema nests too deeply', path);
    this.depth++;
    try {
      return this.compileUnchecked(schema, path);
    } finally {
      this.depth--;
    }
  }

  private compileUnchecked(schema: unknown, path: string): GrammarNode {
    if (schema === true) return this.syntax.anyValue();
    if (schema === false) return g.NOTHING;
    if (!isSchemaObject(schema)) throw new SchemaError('a schema must be an object or a boolean', path);
    for (const key of Object.keys(schema)) {
      if (UNENFORCEABLE.has(key)) throw new SchemaError(`keyword ${key} is not supported`, `${path}/${key}`);
    }
    if (schema.not !== undefined) {
      // Only `not: {}` (or true), which forbids everything: how schemas say "this property must be absent".
      const negated = schema.not;
      if (negated === true || (isSchemaObject(negated) && constraintKeys(negated).length === 0)) return g.NOTHING;
      throw new SchemaError('not is supported only as not: {}', `${path}/not`);
    }
    if (schema.$ref !== undefined) return this.compileRef(schema, path);
    if (schema.allOf !== undefined) {
      const { allOf, ...rest } = schema;
      if (!Array.isArray(allOf)) throw new SchemaError('allOf must be an array', `${path}/allOf`);
      let merged: unknown = rest;
      allOf.forEach((branch, i) => (merged = mergeSchemas(merged, this.inlineRefs(branch, `${path}/allOf/${i}`), `${path}/allOf/${i}`)));
      return this.compile(merged, path);
    }
    if (schema.anyOf !== undefined || schema.oneOf !== undefined) return this.compileAlternatives(schema, path);
    if (Object.hasOwn(schema, 'const') || schema.enum !== undefined) return this.compileValues(schema, path);
    if (constraintKeys(schema).length === 0) return this.syntax.anyValue();
    return g.alt(...typesOf(schema, path).map((type) => this.compileType(type, schema, path)));
  }

  /**
   * A property's value or an array's element is copied where the object or array is counted
   * (optional members twice, counted elements many times): a large one becomes a rule called from
   * each copy, so that nesting never multiplies sizes.
   */
  private shared(node: GrammarNode, path: string): GrammarNode {
    if (node.type === 'call' || nodeSize(node, SHARED_NODE_SIZE) < SHARED_NODE_SIZE) return node;
    return g.call(this.builder.rule(`value at ${path || '/'}`, node));
  }

  /** A call of the rule of the $ref's target, with the keywords beside the $ref merged in. */
  private compileRef(schema: Schema, path: string): GrammarNode {
    const { $ref: ref, ...rest } = schema;
    const target = resolveRef(this.root, ref, path);
    const siblings = constraintKeys(rest).length > 0;
    const key = siblings ? `${ref as string}\u0000${JSON.stringify(rest)}` : (ref as string);
    let rule = this.refRules.get(key);
    if (rule === undefined) {
      rule = this.builder.declare(`$ref ${ref as string}`);
      this.refRules.set(key, rule);
      const targetPath = siblings ? path : decodeURIComponent((ref as string).slice(1));
      this.builder.define(rule, this.compile(siblings ? mergeSchemas(rest, this.inlineRefs(target, path), path) : target, targetPath));
    }
    return g.call(rule);
  }

  /** A branch of allOf or anyOf whose top is a $ref, replaced by its target (one level, for merging). */
  private inlineRefs(schema: unknown, path: string): unknown {
    for (let hops = 0; isSchemaObject(schema) && schema.$ref !== undefined; hops++) {
      if (hops > 8) throw new SchemaError('$ref chain is too long or circular', `${path}/$ref`);
      const { $ref: ref, ...rest } = schema;
      const target = resolveRef(this.root, ref, path);
      schema = constraintKeys(rest).length === 0 ? target : mergeSchemas(rest, target, path);
    }
    return schema;
  }

  private compileAlternatives(schema: Schema, path: string): GrammarNode {
    const { anyOf, oneOf, ...rest } = schema;
    if (anyOf !== undefined && oneOf !== undefined) throw new SchemaError('anyOf beside oneOf is not supported', `${path}/oneOf`);
    const key = anyOf !== undefined ? 'anyOf' : 'oneOf';
    const branches = anyOf ?? oneOf;
    if (!Array.isArray(branches) || branches.length === 0) throw new SchemaError(`${key} must be a non-empty array`, `${path}/${key}`);
    const hasSiblings = constraintKeys(rest).length > 0;
    const exclusive = key === 'oneOf' ? exclusiveRequired(branches.map((b, i) => this.inlineRefs(b, `${path}/oneOf/${i}`))) : undefined;
    if (exclusive) {
      return g.alt(...exclusive.map((branch, i) => this.compile(mergeSchemas(rest, branch, `${path}/oneOf/${i}`), `${path}/oneOf/${i}`)));
    }
    const merged = branches.map((branch, i) => {
      const branchPath = `${path}/${key}/${i}`;
      return hasSiblings ? mergeSchemas(rest, this.inlineRefs(branch, branchPath), branchPath) : branch;
    });
    if (key === 'oneOf' && !branchesDisjoint(merged.map((b, i) => this.inlineRefs(b, `${path}/oneOf/${i}`)))) {
      throw new SchemaError('oneOf is supported only when its branches are clearly disjoint (types, const/enum values or a required discriminator)', `${path}/oneOf`);
    }
    return g.alt(...merged.map((branch, i) => this.compile(branch, `${path}/${key}/${i}`)));
  }

  private compileValues(schema: Schema, path: string): GrammarNode {
    const values = Object.hasOwn(schema, 'const') ? [schema.const] : schema.enum;
    if (!Array.isArray(values)) throw new SchemaError('enum must be an array', `${path}/enum`);
    const others = constraintKeys(schema).filter((key) => key !== 'const' && key !== 'enum' && key !== 'type');
    if (others.length > 0) throw new SchemaError(`${others[0]} beside enum or const is not supported`, `${path}/${others[0]}`);
    if (Object.hasOwn(schema, 'const') && schema.enum !== undefined) throw new SchemaError('enum beside const is not supported', `${path}/enum`);
    const allowed = schema.type === undefined ? undefined : typesOf(schema, path);
    const kept = values.filter((value) => allowed === undefined || allowed.some((type) => valueHasType(value, type)));
    return g.alt(...kept.map((value) => this.syntax.literal(value)));
  }

  private compileType(type: JsonType, schema: Schema, path: string): GrammarNode {
    const child = (childSchema: unknown, childPath: string) => this.shared(this.compile(childSchema, childPath), childPath);
    switch (type) {
      case 'null':
        return g.literal('null');
      case 'boolean':
        return g.alt(g.literal('true'), g.literal('false'));
      case 'integer':
      case 'number':
      {
        const language = numberLanguage(schema, type === 'integer', path);
        if ('pattern' in language) return this.syntax.pattern(language.pattern);
        return g.call(this.builder.rule(`number at ${path || '/'}`, dfaNode(language.dfa)));
      }
      case 'string':
        return this.syntax.pattern(stringRegex(schema, path));
      case 'object':
        return objectNode(schema, path, child, this.syntax, this.builder);
      case 'array':
        return arrayNode(schema, path, child, this.syntax, this.builder);
    }
  }
}

/**
 * oneOf of bare `required` lists ("exactly one of these keys"): each branch becomes an object
 * with its keys that lacks the keys only the other branches require, which makes the branches
 * disjoint (narrower than the schema when a branch could lack just some of them: sound).
 */
function exclusiveRequired(branches: readonly unknown[]): Schema[] | undefined {
  const lists: string[][] = [];
  for (const branch of branches) {
    if (!isSchemaObject(branch) || constraintKeys(branch).some((k) => k !== 'required')) return undefined;
    if (!Array.isArray(branch.required) || branch.required.some((name) => typeof name !== 'string')) return undefined;
    lists.push(branch.required as string[]);
  }
  if (lists.length < 2) return undefined;
  const result: Schema[] = [];
  for (const [i, own] of lists.entries()) {
    const forbidden = new Set<string>();
    for (const [j, other] of lists.entries()) {
      if (j === i) continue;
      const onlyOther = other.filter((name) => !own.includes(name));
      if (onlyOther.length === 0) return undefined;
      onlyOther.forEach((name) => forbidden.add(name));
    }
    result.push({ type: 'object', required: own, properties: Object.fromEntries([...forbidden].map((name) => [name, false])) });
  }
  return result;
}

function stringRegex(schema: Schema, path: string): string {
  const contentKeys = ['pattern', 'format'].filter((key) => schema[key] !== undefined);
  if (contentKeys.length === 0) {
    const min = lengthKeyword(schema, 'minLength', path) ?? 0;
    return lengthBoundedString(min, lengthKeyword(schema, 'maxLength', path), path);
  }
  if (contentKeys.length > 1) throw new SchemaError('pattern beside format is not supported', `${path}/format`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    throw new SchemaError(`minLength/maxLength beside ${contentKeys[0]} is not supported`, `${path}/${schema.minLength !== undefined ? 'minLength' : 'maxLength'}`);
  }
  return `"${schema.pattern !== undefined ? patternContent(schema.pattern, path) : formatContent(schema.format, path)}"`;
}

function lengthKeyword(schema: Schema, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
  return value;
}

function typesOf(schema: Schema, path: string): JsonType[] {
  const declared = schema.type ?? JSON_TYPES.filter((t) => t !== 'integer');
  const list = Array.isArray(declared) ? declared : [declared];
  for (const type of list) {
    if (!(JSON_TYPES as readonly unknown[]).includes(type)) throw new SchemaError(`type ${JSON.stringify(type)} is not a JSON Schema type`, `${path}/type`);
  }
  const types = [...new Set(list as JsonType[])];
  return types.includes('number') ? types.filter((t) => t !== 'integer') : types;
}

function valueHasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}
