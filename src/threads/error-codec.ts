// Errors crossing a thread. A structured clone keeps only an error's message (and the name of a
// built-in class): the codec carries the class, the name, the message, the stack and the error's
// own fields, and raises the same class again on the other side when both sides registered it.

/** An error as plain data, as it crosses a thread. */
export interface EncodedError {
  /** The registered class it was raised as ('' when none). */
  type: string;
  name: string;
  message: string;
  stack?: string;
  /** Its own enumerable fields (`param`, `inUse`, ...), those a structured clone can carry. */
  fields: Record<string, unknown>;
}

/** Any error class, whatever its constructor's parameters (it is raised again without calling it). */
export type ErrorClass = new (...args: never[]) => Error;

/** The classes a pair of threads exchange as themselves; any other error arrives as an Error with its name. */
export class ErrorCodec {
  private readonly byType = new Map<string, ErrorClass>();
  private readonly typeOf = new Map<ErrorClass, string>();

  constructor(classes: readonly ErrorClass[] = []) {
    for (const type of classes) this.register(type);
  }

  /** Registers `type` under its class name (or `name`); each name once. */
  register(type: ErrorClass, name: string = type.name): this {
    const known = this.byType.get(name);
    if (known && known !== type) throw new Error(`two error classes registered as ${name}`);
    this.byType.set(name, type);
    this.typeOf.set(type, name);
    return this;
  }

  encode(error: unknown): EncodedError {
    if (!(error instanceof Error)) return { type: '', name: 'Error', message: String(error), fields: {} };
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(error)) {
      if (key !== 'name' && cloneable(value)) fields[key] = value;
    }
    return {
      type: this.registeredType(error),
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
      fields,
    };
  }

  decode(encoded: EncodedError): Error {
    const type = this.byType.get(encoded.type);
    let error: Error;
    if (type) {
      // The class without its constructor (whose parameters differ from class to class): an Error
      // whose prototype is the class's, given the fields the original had.
      error = Reflect.construct(Error, [encoded.message], type) as Error;
      Object.assign(error, encoded.fields);
    } else {
      error = new Error(encoded.message);
    }
    if (error.name !== encoded.name)
      Object.defineProperty(error, 'name', { value: encoded.name, writable: true, enumerable: true, configurable: true });
    if (encoded.stack !== undefined) error.stack = encoded.stack;
    return error;
  }

  /** The nearest registered class of `error` (a subclass travels as its registered parent). */
  private registeredType(error: Error): string {
    for (
      let proto: unknown = Object.getPrototypeOf(error);
      proto !== null && proto !== Error.prototype;
      proto = Object.getPrototypeOf(proto)
    ) {
      const type = this.typeOf.get((proto as { constructor: ErrorClass }).constructor);
      if (type !== undefined) return type;
    }
    return '';
  }
}

function cloneable(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean', 'undefined', 'bigint'].includes(typeof value)) return true;
  if (typeof value !== 'object') return false;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
