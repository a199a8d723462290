/** A pattern the regex compiler refuses: malformed, unsupported, or beyond the limits. */
export class RegexError extends Error {
  override readonly name = 'RegexError';

  /** `position` counts code points from 0; it is absent for errors about the whole pattern. */
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(message);
  }
}
