// Small builders for regex source text in the dialect of ../regex.

/** Matches nothing: the complement of every code point. */
export const NEVER = '[^\\u{0}-\\u{10FFFF}]';

function group(source: string): string {
  return `(?:${source})`;
}

export function alternatives(options: readonly string[]): string {
  const live = options.filter((o) => o !== NEVER);
  if (live.length === 0) return NEVER;
  return live.length === 1 ? live[0] : group(live.join('|'));
}
