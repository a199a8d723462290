// A set of JSON values split by type: null, true, false, numbers and strings as regular languages
// of their texts, objects and arrays as unions of shapes (each shape a conjunction of constraints
// whose members and items are nodes, expanded only when needed). Intersection, union and
// complement are computed type by type; a complement of a shape is the union of the ways to break
// one of its constraints.
import { g } from '../../cfg/index.js';
import { SchemaError } from '../schema-error.js';
import { Language } from './language.js';
import { and, ANY, type Node, NONE, not } from './node.js';

export interface KeyRule {
  /** Keys (decoded text) the rule speaks of. */
  readonly keys: Language;
  readonly value: Node;
}

/**
 * Objects whose members satisfy: a declared property has a value in its node (which already holds
 * every constraint on that key); an undeclared key's value is in the value of every rule whose keys
 * hold it; every key is in `names`; `required` keys are present; the member count is within
 * [min, max]; and, with `some`, at least one member has a key and a value of it.
 */
export interface ObjectShape {
  readonly props: readonly { readonly name: string; readonly value: Node }[];
  readonly required: readonly string[];
  readonly rules: readonly KeyRule[];
  readonly names?: Language;
  readonly min: number;
  readonly max: number;
  readonly some?: KeyRule;
}

/** Arrays: item i in prefix[i], later items in `items`, length in [min, max], and the contains count. */
export interface ArrayShape {
  readonly prefix: readonly Node[];
  readonly items: Node;
  readonly min: number;
  readonly max: number;
  /** Between min and max items from position `from` on are in `value`. */
  readonly contains?: { readonly value: Node; readonly min: number; readonly max: number; readonly from: number };
  /** uniqueItems: no two items equal. */
  readonly unique: boolean;
}

export interface TypeSet {
  readonly null: boolean;
  readonly true: boolean;
  readonly false: boolean;
  /** Numbers by their text; undefined for none. */
  readonly number?: Language;
  /** Strings by their decoded text; undefined for none. */
  readonly string?: Language;
  readonly objects: readonly ObjectShape[];
  readonly arrays: readonly ArrayShape[];
}

export const OPEN_OBJECT: ObjectShape = Object.freeze({ props: [], required: [], rules: [], min: 0, max: Infinity });
export const OPEN_ARRAY: ArrayShape = Object.freeze({ prefix: [], items: ANY, min: 0, max: Infinity, unique: false });
export const NO_TYPES: TypeSet = Object.freeze({ null: false, true: false, false: false, objects: [], arrays: [] });
export const ALL_TYPES: TypeSet = Object.freeze({
  null: true,
  true: true,
  false: true,
  number: Language.universal('number'),
  string: Language.universal('string'),
  objects: [OPEN_OBJECT],
  arrays: [OPEN_ARRAY],
});

/** Unions of shapes beyond this are refused: and/not of unions multiply their sizes. */
const MAX_SHAPES = 64;

export function andSets(a: TypeSet, b: TypeSet): TypeSet {
  const number = a.number && b.number ? nonEmpty(a.number.and(b.number)) : undefined;
  const string = a.string && b.string ? nonEmpty(a.string.and(b.string)) : undefined;
  const objects = limit(a.objects.flatMap((x) => b.objects.map((y) => andObjects(x, y))).filter((s): s is ObjectShape => s !== undefined));
  const arrays = limit(a.arrays.flatMap((x) => b.arrays.map((y) => andArrays(x, y))).filter((s): s is ArrayShape => s !== undefined));
  return { null: a.null && b.null, true: a.true && b.true, false: a.false && b.false, number, string, objects, arrays };
}

/** The union of several sets at once (linear in their total size, where folding pairwise is not). */
export function orAllSets(sets: readonly TypeSet[]): TypeSet {
  if (sets.length === 1) return sets[0];
  const languages = (pick: (t: TypeSet) => Language | undefined) => {
    const present = sets.map(pick).filter((l): l is Language => l !== undefined);
    return present.length > 0 ? Language.orAll(present) : undefined;
  };
  const objects = sets.some((t) => t.objects.includes(OPEN_OBJECT)) ? [OPEN_OBJECT] : limit(sets.flatMap((t) => t.objects));
  const arrays = sets.some((t) => t.arrays.includes(OPEN_ARRAY)) ? [OPEN_ARRAY] : limit(sets.flatMap((t) => t.arrays));
  return {
    null: sets.some((t) => t.null),
    true: sets.some((t) => t.true),
    false: sets.some((t) => t.false),
    number: languages((t) => t.number),
    string: languages((t) => t.string),
    objects,
    arrays,
  };
}

/** Every JSON value outside the set (within each type's universe, see Language). */
export function notSet(t: TypeSet): TypeSet {
  const number = t.number ? nonEmpty(t.number.not()) : Language.universal('number');
  const string = t.string ? nonEmpty(t.string.not()) : Language.universal('string');
  let objects: ObjectShape[] = [OPEN_OBJECT];
  for (const shape of t.objects) {
    const broken = notObject(shape);
    objects = limit(objects.flatMap((x) => broken.map((y) => andObjects(x, y))).filter((s): s is ObjectShape => s !== undefined));
  }
  let arrays: ArrayShape[] = [OPEN_ARRAY];
  for (const shape of t.arrays) {
    const broken = notArray(shape);
    arrays = limit(arrays.flatMap((x) => broken.map((y) => andArrays(x, y))).filter((s): s is ArrayShape => s !== undefined));
  }
  return { null: !t.null, true: !t.true, false: !t.false, number, string, objects, arrays };
}

function nonEmpty(language: Language): Language | undefined {
  return language.isEmpty() ? undefined : language;
}

function limit<T>(shapes: T[]): T[] {
  if (shapes.length > MAX_SHAPES)
    throw new SchemaError(`the schema combines into more than ${MAX_SHAPES} alternative shapes of one type`, '');
  return shapes;
}

/** The constraint a shape puts on the value of key `name`. */
export function valueOf(shape: ObjectShape, name: string): Node {
  if (shape.names && !shape.names.contains(name)) return NONE;
  const declared = shape.props.find((p) => p.name === name);
  if (declared) return declared.value;
  return and(...shape.rules.filter((rule) => rule.keys.contains(name)).map((rule) => rule.value));
}

function andObjects(a: ObjectShape, b: ObjectShape): ObjectShape | undefined {
  if (a === OPEN_OBJECT) return b;
  if (b === OPEN_OBJECT) return a;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  if (min > max) return undefined;
  const names = [...new Set([...a.props.map((p) => p.name), ...b.props.map((p) => p.name)])];
  const props = names.map((name) => ({ name, value: and(valueOf(a, name), valueOf(b, name)) }));
  const required = [...new Set([...a.required, ...b.required])];
  for (const name of required) {
    const prop = props.find((p) => p.name === name);
    if (prop?.value.k === 'none') return undefined;
  }
  let some = a.some ?? b.some;
  // Two "at least one member" constraints are narrowed to one member meeting both (sound).
  if (a.some && b.some) some = { keys: a.some.keys.and(b.some.keys), value: and(a.some.value, b.some.value) };
  const keyNames = a.names && b.names ? a.names.and(b.names) : (a.names ?? b.names);
  return { props, required, rules: [...a.rules, ...b.rules], names: keyNames, min, max, some };
}

/** The ways an object can break the shape, each a shape of its own. */
function notObject(shape: ObjectShape): ObjectShape[] {
  const out: ObjectShape[] = [];
  const declared = shape.props.map((p) => p.name);
  for (const name of shape.required) out.push({ ...OPEN_OBJECT, props: [{ name, value: NONE }] });
  for (const { name, value } of shape.props) {
    if (value.k === 'any') continue;
    out.push({ ...OPEN_OBJECT, props: [{ name, value: not(value) }], required: [name] });
  }
  for (const rule of shape.rules) {
    if (rule.value.k === 'any') continue;
    out.push({ ...OPEN_OBJECT, some: { keys: rule.keys.and(withoutNames(declared)), value: not(rule.value) } });
  }
  if (shape.names) out.push({ ...OPEN_OBJECT, some: { keys: shape.names.not(), value: ANY } });
  if (shape.min > 0) out.push({ ...OPEN_OBJECT, max: shape.min - 1 });
  if (shape.max < Infinity) out.push({ ...OPEN_OBJECT, min: shape.max + 1 });
  if (shape.some) {
    // No member has a key of `some` with a value of it: such keys' values all break it.
    const props = declared.filter((name) => shape.some!.keys.contains(name)).map((name) => ({ name, value: not(shape.some!.value) }));
    out.push({ ...OPEN_OBJECT, props, rules: [{ keys: shape.some.keys, value: not(shape.some.value) }] });
  }
  return out;
}

/** Keys other than `names`. */
function withoutNames(names: readonly string[]): Language {
  return names.length === 0 ? Language.universal('key') : literalKeys(names).not();
}

export function literalKeys(names: readonly string[]): Language {
  return Language.of('key', orLiterals(names), true);
}

function orLiterals(names: readonly string[]) {
  return g.alt(...names.map((name) => g.literal(name)));
}

function andArrays(a: ArrayShape, b: ArrayShape): ArrayShape | undefined {
  if (a === OPEN_ARRAY) return b;
  if (b === OPEN_ARRAY) return a;
  const min = Math.max(a.min, b.min);
  const max = Math.min(a.max, b.max);
  if (min > max) return undefined;
  const length = Math.max(a.prefix.length, b.prefix.length);
  const prefix: Node[] = [];
  for (let i = 0; i < length; i++) prefix.push(and(a.prefix[i] ?? a.items, b.prefix[i] ?? b.items));
  let contains = a.contains ?? b.contains;
  if (a.contains && b.contains) {
    if (a.contains.value === b.contains.value && a.contains.from === b.contains.from) {
      contains = { ...a.contains, min: Math.max(a.contains.min, b.contains.min), max: Math.min(a.contains.max, b.contains.max) };
      if (contains.min > contains.max) return undefined;
    } else if (a.contains.max === Infinity && b.contains.max === Infinity) {
      // Two counts over different sets cannot be tracked together. "At least m items of each" is
      // narrowed to "at least m items of both" (sound: fewer arrays).
      contains = {
        value: and(a.contains.value, b.contains.value),
        min: Math.max(a.contains.min, b.contains.min),
        max: Infinity,
        from: Math.max(a.contains.from, b.contains.from),
      };
    } else {
      throw new SchemaError('two contains constraints on one array are not supported', '');
    }
  }
  return { prefix, items: and(a.items, b.items), min, max, contains, unique: a.unique || b.unique };
}

function notArray(shape: ArrayShape): ArrayShape[] {
  if (shape.unique) throw new SchemaError('not of uniqueItems is not supported', '');
  const out: ArrayShape[] = [];
  if (shape.min > 0) out.push({ ...OPEN_ARRAY, max: shape.min - 1 });
  if (shape.max < Infinity) out.push({ ...OPEN_ARRAY, min: shape.max + 1 });
  shape.prefix.forEach((item, i) => {
    if (item.k === 'any') return;
    const prefix = shape.prefix.slice(0, i).map(() => ANY);
    out.push({ ...OPEN_ARRAY, prefix: [...prefix, not(item)], min: i + 1 });
  });
  if (shape.items.k !== 'any')
    out.push({ ...OPEN_ARRAY, contains: { value: not(shape.items), min: 1, max: Infinity, from: shape.prefix.length } });
  if (shape.contains) {
    const { value, min, max, from } = shape.contains;
    if (min > 0) out.push({ ...OPEN_ARRAY, contains: { value, min: 0, max: min - 1, from } });
    if (max < Infinity) out.push({ ...OPEN_ARRAY, contains: { value, min: max + 1, max: Infinity, from } });
  }
  return out;
}
