// oneOf is compiled as anyOf, which is exact only when no instance can satisfy two branches.
// Accepted when each pair of branches is clearly disjoint: no common type, disjoint const/enum
// values, objects that both require a property whose const/enum values are disjoint (a
// discriminated union), or objects one of which requires a property the other forbids.
import { isSchemaObject, JSON_TYPES, type Schema } from './keywords.js';

export function branchesDisjoint(branches: readonly unknown[]): boolean {
  for (let i = 0; i < branches.length; i++) {
    for (let j = i + 1; j < branches.length; j++) if (!disjoint(branches[i], branches[j])) return false;
  }
  return true;
}

function disjoint(a: unknown, b: unknown): boolean {
  if (a === false || b === false) return true;
  if (!isSchemaObject(a) || !isSchemaObject(b)) return false;
  const typesA = types(a);
  const typesB = types(b);
  if (![...typesA].some((t) => typesB.has(t))) return true;
  const valuesA = values(a);
  const valuesB = values(b);
  if (valuesA && valuesB && !valuesA.some((v) => valuesB.includes(v))) return true;
  if (!typesA.has('object') || !typesB.has('object')) return false;
  if (requiresWhatOtherForbids(a, b) || requiresWhatOtherForbids(b, a)) return true;
  const propsA = isSchemaObject(a.properties) ? a.properties : {};
  const propsB = isSchemaObject(b.properties) ? b.properties : {};
  const requiredB = Array.isArray(b.required) ? b.required : [];
  for (const name of Array.isArray(a.required) ? a.required : []) {
    if (!requiredB.includes(name) || !Object.hasOwn(propsA, name) || !Object.hasOwn(propsB, name)) continue;
    const left = isSchemaObject(propsA[name]) ? values(propsA[name] as Schema) : undefined;
    const right = isSchemaObject(propsB[name]) ? values(propsB[name] as Schema) : undefined;
    if (left && right && !left.some((v) => right.includes(v))) return true;
  }
  return false;
}

/** `a` is only met by objects that have a property `b` does not allow. */
function requiresWhatOtherForbids(a: Schema, b: Schema): boolean {
  if (a.type !== 'object' || b.type !== 'object') return false;
  const propsB = isSchemaObject(b.properties) ? b.properties : {};
  return (Array.isArray(a.required) ? a.required : []).some((name) =>
    Object.hasOwn(propsB, name) ? propsB[name] === false : b.additionalProperties === false && b.patternProperties === undefined,
  );
}

/** The JSON types a schema may match, integers counted as numbers. */
function types(schema: Schema): Set<string> {
  const listed = values(schema)?.map((text) => typeOfValue(JSON.parse(text)));
  const declared =
    schema.type === undefined
      ? undefined
      : (Array.isArray(schema.type) ? schema.type : [schema.type]).map((t) => (t === 'integer' ? 'number' : t));
  const all = JSON_TYPES.filter((t) => t !== 'integer') as string[];
  return new Set((listed ?? declared ?? all).filter((t) => !declared || declared.includes(t)));
}

function values(schema: Schema): string[] | undefined {
  if (Object.hasOwn(schema, 'const')) return [JSON.stringify(schema.const)];
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v));
  return undefined;
}

function typeOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
