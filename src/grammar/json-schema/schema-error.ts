/** A schema the compiler refuses; `path` is the JSON Pointer of the keyword at fault. */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';

  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }

  /** The message with the keyword's path, as a request is told it. */
  get detail(): string {
    return this.path ? `${this.message} (at ${this.path})` : this.message;
  }
}
