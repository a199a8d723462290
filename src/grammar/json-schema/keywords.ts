// Which keywords the compiler knows. Anything else is refused by name, never dropped.

export const ANNOTATIONS = new Set([
  'title', 'description', 'examples', 'default', '$schema', '$id', '$comment', 'deprecated', 'readOnly', 'writeOnly',
  'contentEncoding', 'contentMediaType', '$defs', 'definitions',
  // Draft 4's spelling of $id.
  'id',
]);

export const ENFORCED = new Set([
  'type', 'enum', 'const', '$ref', 'allOf', 'anyOf', 'oneOf', 'not',
  'minLength', 'maxLength', 'pattern', 'format',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties', 'patternProperties', 'propertyNames',
  'items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems', 'contains',
]);

export const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export type Schema = Record<string, unknown>;

export function isSchemaObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keywords of a schema that constrain something (annotations left out). */
export function constraintKeys(schema: Schema): string[] {
  return Object.keys(schema).filter((key) => !ANNOTATIONS.has(key));
}
