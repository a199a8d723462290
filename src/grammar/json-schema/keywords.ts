// Which keywords the compiler knows. A keyword of the JSON Schema vocabularies (draft-04 to
// 2020-12) that it cannot enforce is refused by name, never dropped; a keyword outside them
// (`x-...`, OpenAPI's `nullable`, a typo) has no meaning to enforce and is an annotation, as the
// specification says unknown keywords are.

export const ENFORCED = new Set([
  'type',
  'enum',
  'const',
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'minLength',
  'maxLength',
  'pattern',
  'format',
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
  'items',
  'prefixItems',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'contains',
]);

/** Standard keywords that constrain instances in ways the compiler does not express. */
export const UNENFORCEABLE = new Set([
  'if',
  'then',
  'else',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
  'unevaluatedProperties',
  'unevaluatedItems',
  'minContains',
  'maxContains',
  '$dynamicRef',
  '$recursiveRef',
  'contentSchema',
]);

/** Whether `key` constrains instances (as opposed to an annotation or an unknown keyword). */
export const isConstraint = (key: string) => ENFORCED.has(key) || UNENFORCEABLE.has(key);

export const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export type Schema = Record<string, unknown>;

export function isSchemaObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
