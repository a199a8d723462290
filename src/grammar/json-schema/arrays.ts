// Arrays: positional items (prefixItems, or draft-07's items array), then the rest (items, or
// additionalItems), with minItems/maxItems counted over both.
import { DEFAULT_REGEX_LIMITS } from '../regex/index.js';
import { isSchemaObject, type Schema } from './keywords.js';
import { NEVER, optional, WS } from './regex-text.js';
import { SchemaError } from './schema-error.js';
import type { CompileChild } from './objects.js';

const SEPARATOR = `${WS},${WS}`;
const MAX_POSITIONAL = 64;

export function arrayRegex(schema: Schema, path: string, compileChild: CompileChild): string {
  const { positional, positionalPath, rest, restPath } = itemSchemas(schema, path);
  if (positional.length > MAX_POSITIONAL) throw new SchemaError(`more than ${MAX_POSITIONAL} positional items are not supported`, positionalPath);
  checkUnsupported(schema, path);
  const min = count(schema, 'minItems', path) ?? 0;
  const max = count(schema, 'maxItems', path);
  const limit = DEFAULT_REGEX_LIMITS.maxRepetition;
  if (min > limit + positional.length) throw new SchemaError(`minItems beyond ${limit} is not supported`, `${path}/minItems`);
  if (max !== undefined && max > limit + positional.length) throw new SchemaError(`maxItems beyond ${limit} is not supported`, `${path}/maxItems`);
  if (max !== undefined && max < min) return NEVER;

  const positions = positional.slice(0, max ?? positional.length).map((item, i) => compileChild(item, `${positionalPath}/${i}`));
  const restRegex = (max ?? Infinity) > positional.length ? compileChild(rest, restPath) : NEVER;

  // Elements after the positional ones, each with its leading separator.
  let text: string;
  const restMin = Math.max(0, min - positional.length);
  if (restRegex === NEVER) {
    if (restMin > 0) return NEVER;
    text = '';
  } else {
    const restMax = max === undefined ? '' : String(max - positional.length);
    text = `(?:${SEPARATOR}${restRegex}){${restMin},${restMax}}`;
  }
  // Then the positional ones from the last: element i is required when fewer than min would remain.
  for (let i = positions.length - 1; i >= 0; i--) {
    if (positions[i] === NEVER) {
      if (i < min) return NEVER;
      text = '';
      continue;
    }
    const element = `${i === 0 ? '' : SEPARATOR}${positions[i]}${text}`;
    text = i < min ? element : optional(element);
  }
  if (positions.length === 0) {
    if (restRegex === NEVER) text = '';
    else {
      const first = `${restRegex}(?:${SEPARATOR}${restRegex}){${Math.max(0, min - 1)},${max === undefined ? '' : max - 1}}`;
      text = max === 0 ? '' : min > 0 ? first : optional(first);
    }
  }
  return `\\[${WS}${text}${WS}\\]`;
}

function itemSchemas(schema: Schema, path: string) {
  if (Array.isArray(schema.prefixItems)) {
    return { positional: schema.prefixItems, positionalPath: `${path}/prefixItems`, rest: schema.items ?? true, restPath: `${path}/items` };
  }
  if (Array.isArray(schema.items)) {
    return { positional: schema.items, positionalPath: `${path}/items`, rest: schema.additionalItems ?? true, restPath: `${path}/additionalItems` };
  }
  return { positional: [] as unknown[], positionalPath: `${path}/prefixItems`, rest: schema.items ?? true, restPath: `${path}/items` };
}

function checkUnsupported(schema: Schema, path: string): void {
  const max = schema.maxItems;
  if (schema.uniqueItems === true && !(typeof max === 'number' && max <= 1)) {
    throw new SchemaError('uniqueItems is not supported', `${path}/uniqueItems`);
  }
  if (schema.contains !== undefined) throw new SchemaError('contains is not supported', `${path}/contains`);
}

function count(schema: Schema, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
  return value;
}
