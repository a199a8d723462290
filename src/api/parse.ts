// Schema checking of request bodies, with errors phrased like TGI's JSON extractor.
import type { z } from 'zod';

export class BodyShapeError extends Error {
  constructor(
    message: string,
    /** Dotted path of the offending field, when there is one. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue.path.length > 0 ? issue.path.map(String).join('.') : null;
    throw new BodyShapeError(`Failed to deserialize the JSON body into the target type: ${describe(issue)}`, param);
  }
  return result.data;
}
