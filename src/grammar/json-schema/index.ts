// JSON Schema -> a regular expression (in the dialect of ../regex) whose matches are the JSON texts
// valid under the schema. Not implemented yet: every schema is refused.

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

export function jsonSchemaToRegex(schema: unknown): string {
  void schema;
  throw new SchemaError('JSON Schema constraints are not implemented yet', '');
}
