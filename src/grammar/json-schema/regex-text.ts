// Small builders for regex source text in the dialect of ../regex.

/** Matches nothing: the complement of every code point. */
export const NEVER = '[^\\u{0}-\\u{10FFFF}]';

/**
 * Between JSON tokens: up to WHITESPACE_LIMIT spaces, tabs and newlines. Enough for 2-space
 * indented output nested about 15 deep and for Python's ", " and ": " separators; bounded so a
 * model cannot spend its whole budget on whitespace.
 */
export const WHITESPACE_LIMIT = 32;
export const WS = `[ \\t\\n\\r]{0,${WHITESPACE_LIMIT}}`;

export function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

export function group(source: string): string {
  return `(?:${source})`;
}

export function alternatives(options: readonly string[]): string {
  const live = options.filter((o) => o !== NEVER);
  if (live.length === 0) return NEVER;
  return live.length === 1 ? live[0] : group(live.join('|'));
}

export function optional(source: string): string {
  return source === NEVER ? '' : `${group(source)}?`;
}

export function hexCodePoint(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}
