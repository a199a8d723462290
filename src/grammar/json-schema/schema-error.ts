/** A schema the compiler refuses; `path` is the JSON Pointer of the keyword at fault. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';

  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}
