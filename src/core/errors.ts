// The domain errors of a request, as the layers below the server throw them: each says what kind
// of failure it is and which request field is at fault, and the server maps kinds to HTTP in one
// place per route family (server/errors.ts), without knowing the classes.

/**
 * validation: a rule of the request is broken (422); context_length: the prompt and the tokens
 * asked for overflow the context, where the face reports it apart (OpenAI's 400
 * context_length_exceeded); template: the chat template failed (422).
 */
export type DomainErrorKind = 'validation' | 'context_length' | 'template';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** The request field at fault, as the face names it (OpenAI's `param`); null when none is named. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}
