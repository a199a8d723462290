// A broken validation rule, with TGI's message.

/** A rule violation; `message` is the text after "Input validation error: ". */
export class ValidationError extends Error {
  constructor(
    message: string,
    /** The parameter at fault, where callers name it differently (the OpenAI routes' `param`). */
    readonly field?: 'grammar',
  ) {
    super(message);
  }
}
