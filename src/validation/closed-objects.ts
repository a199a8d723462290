// Objects closed to undeclared keys, where a request's schema leaves them open by JSON Schema's
// default: a tool's arguments object (as TGI's tool grammar does), and every object of a `strict`
// schema (as OpenAI documents strict mode). A schema that says `additionalProperties` (false, true
// or a schema) keeps what it says.

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keywords whose value is a map of subschemas by name. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is a subschema, or a list of them. */
const SCHEMA_VALUES = new Set([
  'additionalProperties',
  'items',
  'additionalItems',
  'prefixItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'allOf',
  'anyOf',
  'oneOf',
]);
/**
 * Keywords beside which an object may get keys from elsewhere (a referenced or combined schema):
 * closing the object there would refuse keys those declare, so it is left as written.
 */
const COMBINING = ['$ref', 'allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', 'dependentSchemas', 'dependencies'];

function isObjectSchema(schema: Schema): boolean {
  const type = schema.type;
  if (type === 'object' || (Array.isArray(type) && type.includes('object'))) return true;
  return type === undefined && (schema.properties !== undefined || schema.patternProperties !== undefined);
}

/** The schema with `additionalProperties: false` added when it is an object schema that may be closed. */
function closed(schema: Schema): Schema {
  if (schema.additionalProperties !== undefined || !isObjectSchema(schema)) return schema;
  if (COMBINING.some((key) => schema[key] !== undefined)) return schema;
  return { ...schema, additionalProperties: false };
}

/**
 * A tool's `parameters`: the arguments object admits only its declared properties (and those its
 * patternProperties match) unless it says `additionalProperties`. Nested objects keep JSON
 * Schema's default.
 */
export function closedArguments(parameters: Schema): Schema {
  return closed(parameters);
}

/**
 * OpenAI's `strict: true`: every object of the schema admits only its declared properties, where
 * the schema does not say `additionalProperties`. Values of `const`, `enum`,
 * `default` and `examples` are data, left as they are.
 */
export function strictSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (SCHEMA_MAPS.has(key) && isObject(value))
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, strictSchema(sub)]));
    else if (key === 'dependencies' && isObject(value))
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, Array.isArray(sub) ? sub : strictSchema(sub)]));
    else if (SCHEMA_VALUES.has(key)) out[key] = Array.isArray(value) ? value.map(strictSchema) : strictSchema(value);
    else out[key] = value;
  }
  return closed(out);
}
