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

/** What a prompt too long for the context is measured by, beside TGI's message. */
export interface ContextLength {
  readonly inputLength: number;
  /** The request's own `max_new_tokens`, when it gave one. */
  readonly maxNewTokens?: number;
  readonly maxTotalTokens: number;
  readonly maxInputTokens: number;
}

/** Rule 15 or 16 of TGI's validation: the prompt (and the tokens asked for) overflow the context. */
export class ContextLengthError extends ValidationError {
  constructor(
    message: string,
    readonly length: ContextLength,
  ) {
    super(message);
  }
}
