// Objects: declared properties in their order, each optional one present or not, then any
// additional members. For a first-present property j the rest follow, each optional one with its
// leading comma optional: quadratic in the number of properties, so MAX_PROPERTIES caps it.
//
// Additional members (additionalProperties absent, true or a schema) come after the declared ones.
// Their keys are written with plain characters only (no escapes), so their text is their value
// and can be told apart from every declared key exactly; a key that could collide is not
// generated. When that exclusion would nest too deep (very long declared keys), additional members
// are not offered at all, which is sound.
import { isSchemaObject, type Schema } from './keywords.js';
import { PLAIN_CHAR } from './json-string.js';
import { mayMatchSomeName } from './string-pattern.js';
import { alternatives, escapeLiteral, hexCodePoint, NEVER, optional, WS } from './regex-text.js';
import { SchemaError } from './schema-error.js';

export const MAX_PROPERTIES = 100;
const MAX_EXCLUDED_KEY_LENGTH = 60;
const SEPARATOR = `${WS},${WS}`;

export type CompileChild = (schema: unknown, path: string) => string;

interface Member {
  readonly regex: string;
  readonly required: boolean;
}

/**
 * `maxFirstChoices` bounds which optional property may come first (the others may still follow):
 * Infinity is exact; a small number narrows soundly when the exact regex would be too large.
 */
export function objectRegex(schema: Schema, path: string, compileChild: CompileChild, additionalByDefault: boolean, maxFirstChoices: number): string {
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
  const additional = patterned ? false : (schema.additionalProperties ?? additionalByDefault);
  if (names.length > MAX_PROPERTIES) throw new SchemaError(`more than ${MAX_PROPERTIES} properties are not supported`, `${path}/properties`);

  const members: Member[] = [];
  for (const name of names) {
    const declared = Object.hasOwn(properties, name);
    const valuePath = declared ? `${path}/properties/${escapePointer(name)}` : `${path}/additionalProperties`;
    // A required property not declared is additional: its value follows additionalProperties as the
    // schema gives it (a narrower default would make the object unsatisfiable).
    const value = compileChild(declared ? properties[name] : (schema.additionalProperties ?? true), valuePath);
    const isRequired = required.includes(name);
    if (value === NEVER) {
      if (isRequired) return NEVER;
      continue;
    }
    members.push({ regex: `${escapeLiteral(JSON.stringify(name))}${WS}:${WS}${value}`, required: isRequired });
  }
  const additionalValue = additional === false ? NEVER : compileChild(additional, `${path}/additionalProperties`);
  const otherKey = keyOutside(names);
  const extra = additionalValue === NEVER || otherKey === undefined ? undefined : `"${otherKey}"${WS}:${WS}${additionalValue}`;

  const requiredCount = members.filter((m) => m.required).length;
  const { min, max } = propertyCounts(schema, path);
  if (max !== undefined && (extra !== undefined || max < members.length)) {
    throw new SchemaError('maxProperties is supported only when no more properties can be present', `${path}/maxProperties`);
  }
  if (min > Math.max(requiredCount, 1)) throw new SchemaError('minProperties above the required properties is not supported', `${path}/minProperties`);

  const extraTail = extra === undefined ? '' : `(?:${SEPARATOR}${extra})*`;
  const firstRequired = members.findIndex((m) => m.required);
  let content: string;
  if (firstRequired === -1) {
    // Which property comes first decides where the commas go: one alternative per choice.
    const choices = Math.min(members.length, maxFirstChoices);
    const options: string[] = [];
    for (let first = 0; first < choices; first++) options.push(members[first].regex + tail(members, first + 1, members.length) + extraTail);
    if (extra !== undefined) options.push(extra + extraTail);
    content = min === 0 ? optional(alternatives(options)) : alternatives(options);
  } else {
    // The first required property always comes with its comma, so only the optional ones before
    // it multiply: whatever precedes it, then it and the rest once.
    const before: string[] = [];
    for (let first = 0; first < Math.min(firstRequired, maxFirstChoices); first++) {
      before.push(members[first].regex + tail(members, first + 1, firstRequired) + SEPARATOR);
    }
    before.push('');
    content = alternatives(before) + members[firstRequired].regex + tail(members, firstRequired + 1, members.length) + extraTail;
  }
  if (content === NEVER) return NEVER;
  return `\\{${WS}${content}${WS}\\}`;
}

function tail(members: readonly Member[], from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) {
    const item = `${SEPARATOR}${members[i].regex}`;
    text += members[i].required ? item : optional(item);
  }
  return text;
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

function propertyCounts(schema: Schema, path: string): { min: number; max: number | undefined } {
  for (const key of ['minProperties', 'maxProperties']) {
    const value = schema[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new SchemaError(`${key} must be a non-negative integer`, `${path}/${key}`);
    }
  }
  return { min: (schema.minProperties as number | undefined) ?? 0, max: schema.maxProperties as number | undefined };
}

/** The content of a key (plain characters only) that is none of `names`; undefined if too deep to say. */
function keyOutside(names: readonly string[]): string | undefined {
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
  const outside = (node: Node): string => {
    if (node.children.size === 0) return node.terminal ? `${PLAIN_CHAR}+` : `${PLAIN_CHAR}*`;
    const excluded = [...node.children.keys()].map(hexCodePoint).join('');
    const options = [`[^"\\\\\\u{0}-\\u{1f}${excluded}]${PLAIN_CHAR}*`];
    if (!node.terminal) options.push('');
    for (const [codePoint, child] of node.children) {
      // A key holding a character JSON escapes cannot be written with plain characters anyway.
      if (codePoint < 0x20 || codePoint === 0x22 || codePoint === 0x5c) continue;
      options.push(escapeLiteral(String.fromCodePoint(codePoint)) + outside(child));
    }
    return `(?:${options.join('|')})`;
  };
  return outside(root);
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
