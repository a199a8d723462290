// allOf of simple schemas as one schema. Only merges whose meaning is exactly the conjunction are
// made; anything else is a SchemaError naming the keyword.
import { isSchemaObject, type Schema } from './keywords.js';
import { SchemaError } from './schema-error.js';

const LOWER_BOUNDS = new Set(['minimum', 'minLength', 'minItems', 'minProperties']);
const UPPER_BOUNDS = new Set(['maximum', 'maxLength', 'maxItems', 'maxProperties']);

/** Both schemas must hold. `true` and `false` are accepted too. */
export function mergeSchemas(a: unknown, b: unknown, path: string): unknown {
  if (a === true || (isSchemaObject(a) && Object.keys(a).length === 0)) return b;
  if (b === true || (isSchemaObject(b) && Object.keys(b).length === 0)) return a;
  if (a === false || b === false) return false;
  if (!isSchemaObject(a) || !isSchemaObject(b)) throw new SchemaError('a schema must be an object or a boolean', path);
  checkAdditionalProperties(a, b, path);
  checkAdditionalProperties(b, a, path);
  const merged: Schema = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (!Object.hasOwn(merged, key)) {
      merged[key] = value;
      continue;
    }
    const mine = merged[key];
    if (JSON.stringify(mine) === JSON.stringify(value)) continue;
    if (LOWER_BOUNDS.has(key) && typeof mine === 'number' && typeof value === 'number') merged[key] = Math.max(mine, value);
    else if (UPPER_BOUNDS.has(key) && typeof mine === 'number' && typeof value === 'number') merged[key] = Math.min(mine, value);
    else if (key === 'type') merged[key] = intersectTypes(mine, value, path);
    else if (key === 'required' && Array.isArray(mine) && Array.isArray(value)) merged[key] = [...new Set([...mine, ...value])];
    else if (key === 'properties' && isSchemaObject(mine) && isSchemaObject(value)) merged[key] = mergeProperties(mine, value);
    else if (key === 'additionalProperties' || key === 'items') merged[key] = { allOf: [mine, value] };
    else if (key === 'title' || key === 'description' || key === 'default' || key === 'examples' || key === '$comment') continue;
    else throw new SchemaError(`allOf: the branches both constrain ${key} differently, which is not supported`, `${path}/${key}`);
  }
  return merged;
}

function mergeProperties(a: Schema, b: Schema): Schema {
  const merged: Schema = { ...a };
  for (const [name, schema] of Object.entries(b)) merged[name] = Object.hasOwn(merged, name) ? { allOf: [merged[name], schema] } : schema;
  return merged;
}

// additionalProperties speaks of the properties its own schema declares: merging is exact only
// when the other side declares no property this side would treat as additional.
function checkAdditionalProperties(a: Schema, b: Schema, path: string): void {
  if (a.additionalProperties === undefined || a.additionalProperties === true) return;
  const declared = isSchemaObject(a.properties) ? a.properties : {};
  const others = isSchemaObject(b.properties) ? Object.keys(b.properties) : [];
  const required = Array.isArray(b.required) ? b.required : [];
  for (const name of [...others, ...required]) {
    if (!Object.hasOwn(declared, name as string)) {
      throw new SchemaError(`allOf: property ${JSON.stringify(name)} is additional to a branch with additionalProperties`, `${path}/additionalProperties`);
    }
  }
}

function intersectTypes(a: unknown, b: unknown, path: string): unknown {
  const left = Array.isArray(a) ? a : [a];
  const right = Array.isArray(b) ? b : [b];
  const both = new Set<unknown>();
  for (const type of left) {
    if (right.includes(type)) both.add(type);
    else if (type === 'integer' && right.includes('number')) both.add('integer');
    else if (type === 'number' && right.includes('integer')) both.add('integer');
  }
  if (both.size === 0) throw new SchemaError('allOf: the branches allow no common type', `${path}/type`);
  return [...both];
}
