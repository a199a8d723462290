/** A grammar that cannot be followed: it matches nothing, recurses without consuming, or outgrew a bound. */
export class GrammarError extends Error {
  override name = 'GrammarError';
}
