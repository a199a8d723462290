// A broken validation rule, with TGI's message.
import { DomainError } from '../core/errors.js';

/** A rule violation; `message` is the text after "Input validation error: ". */
export class ValidationError extends DomainError {
  constructor(
    message: string,
    /** The parameter at fault, where callers name it differently (the OpenAI routes' `param`). */
    readonly field?: 'grammar',
  ) {
    // TGI's bodies name no field: a face that does maps `field` to its own name.
    super('validation', message);
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
