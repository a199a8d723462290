// The JSON documents the fuzz test builds and mutates, and the text they are written as. Objects
// are lists of entries, so a body can hold `__proto__` as an own key or the same key twice. Parts
// JSON.stringify cannot write (huge integers, -0, 10,000 levels of nesting, 100,000-element arrays)
// are fragments of ready-made text with a short label, so that fast-check prints and shrinks the
// recipe, not megabytes.
import fc from 'fast-check';

export class JsonObject {
  constructor(readonly entries: [string, Json][] = []) {}
  [fc.toStringMethod](): string {
    return `{${this.entries.map(([key, value]) => `${JSON.stringify(key)}: ${fc.stringify(value)}`).join(', ')}}`;
  }
}

export abstract class Fragment {
  abstract readonly label: string;
  abstract text(): string;
  [fc.toStringMethod](): string {
    return this.label;
  }
}

export type Json = null | boolean | number | string | Json[] | JsonObject | Fragment;

/** Text written as is, e.g. a number literal JSON.parse reads differently from how it is written. */
export class RawText extends Fragment {
  constructor(private readonly raw: string) {
    super();
  }
  get label(): string {
    return `raw(${this.raw})`;
  }
  text(): string {
    return this.raw;
  }
}

export type NestingShape = 'array' | 'object' | 'mixed';

/** `depth` levels of arrays, objects or both around a leaf. */
export class DeepNesting extends Fragment {
  constructor(
    readonly shape: NestingShape,
    readonly depth: number,
  ) {
    super();
  }
  get label(): string {
    return `deep(${this.shape}, ${this.depth})`;
  }
  text(): string {
    return nestedText(this.shape, this.depth);
  }
}

export function nestedText(shape: NestingShape, depth: number): string {
  const opens: string[] = [];
  const closes: string[] = [];
  for (let level = 0; level < depth; level++) {
    const asArray = shape === 'array' || (shape === 'mixed' && level % 2 === 0);
    opens.push(asArray ? '[' : '{"a":');
    closes.push(asArray ? ']' : '}');
  }
  return opens.join('') + '1' + closes.reverse().join('');
}

/** A JSON string whose content is deeply nested JSON (tool-call arguments arrive that way). */
export class DeepJsonString extends Fragment {
  constructor(
    readonly shape: NestingShape,
    readonly depth: number,
  ) {
    super();
  }
  get label(): string {
    return `deepJsonString(${this.shape}, ${this.depth})`;
  }
  text(): string {
    return JSON.stringify(nestedText(this.shape, this.depth));
  }
}

/** An array of `count` copies of one element, kept under `byteBudget` bytes of text. */
export class HugeArray extends Fragment {
  constructor(
    readonly count: number,
    readonly element: Json,
    readonly byteBudget: number,
  ) {
    super();
  }
  get label(): string {
    return `huge(${this.count} x ${toJsonText(this.element)})`;
  }
  text(): string {
    const element = toJsonText(this.element);
    const count = Math.max(1, Math.min(this.count, Math.floor(this.byteBudget / (Buffer.byteLength(element) + 1))));
    return `[${Array(count).fill(element).join(',')}]`;
  }
}

/** A string of `length` repetitions of `unit`. */
export class LongString extends Fragment {
  constructor(
    readonly unit: string,
    readonly length: number,
  ) {
    super();
  }
  get label(): string {
    return `long(${JSON.stringify(this.unit)} x ${this.length})`;
  }
  text(): string {
    return JSON.stringify(this.unit.repeat(this.length));
  }
}

export function toJsonText(value: Json): string {
  if (value instanceof Fragment) return value.text();
  if (value instanceof JsonObject) return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  return JSON.stringify(value);
}

/** A plain JavaScript value (a request body as one writes it) as a document. */
export function fromPlain(value: unknown): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (value instanceof Fragment) return value;
  if (Array.isArray(value)) return value.map(fromPlain);
  return new JsonObject(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, fromPlain(item)]));
}

export function cloneJson(value: Json): Json {
  if (value instanceof JsonObject) return new JsonObject(value.entries.map(([key, item]) => [key, cloneJson(item)]));
  if (Array.isArray(value)) return value.map(cloneJson);
  return value;
}

/** A place in a document: entry indices of objects, element indices of arrays. */
export type Step = { container: JsonObject; index: number } | { container: Json[]; index: number };

/** Every value of the document below the root with the step that reaches it (fragments are not entered). */
export function placesOf(root: Json): Step[] {
  const places: Step[] = [];
  const visit = (value: Json) => {
    if (value instanceof JsonObject) {
      value.entries.forEach(([, item], index) => {
        places.push({ container: value, index });
        visit(item);
      });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => {
        places.push({ container: value, index });
        visit(item);
      });
    }
  };
  visit(root);
  return places;
}

export function objectsOf(root: Json): JsonObject[] {
  const objects: JsonObject[] = [];
  const visit = (value: Json) => {
    if (value instanceof JsonObject) {
      objects.push(value);
      value.entries.forEach(([, item]) => visit(item));
    } else if (Array.isArray(value)) value.forEach(visit);
  };
  visit(root);
  return objects;
}

export function replaceAt(step: Step, value: Json): void {
  if (step.container instanceof JsonObject) step.container.entries[step.index][1] = value;
  else step.container[step.index] = value;
}

export function removeAt(step: Step): void {
  if (step.container instanceof JsonObject) step.container.entries.splice(step.index, 1);
  else step.container.splice(step.index, 1);
}

/**
 * Sets the value at a path of keys and indices, making the containers on the way (an index past
 * the end appends). Returns the new root when the path is empty.
 */
export function setPath(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const array = Array.isArray(root) ? root : [];
    const index = Math.min(head, array.length);
    array[index] = setPath(index < array.length ? array[index] : null, rest, value);
    return array;
  }
  const object = root instanceof JsonObject ? root : new JsonObject();
  const entry = object.entries.find(([key]) => key === head);
  if (entry) entry[1] = setPath(entry[1], rest, value);
  else object.entries.push([head, setPath(null, rest, value)]);
  return object;
}
