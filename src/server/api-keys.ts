// API keys and the bearer credentials that must match them.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A set of accepted keys. A candidate is compared exactly, in constant time: both sides are
 * SHA-256 digests of the same length, so neither the content nor the length of a key leaks through
 * timing, and every key is compared, so neither does which one matched.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  accepts(candidate: string): boolean {
    const given = digest(candidate);
    let accepted = false;
    for (const key of this.digests) {
      if (timingSafeEqual(key, given)) accepted = true;
    }
    return accepted;
  }
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive, RFC 6750). */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^bearer +(\S.*)$/i.exec(authorization ?? '');
  return match?.[1];
}
