// JSON string syntax. An escape counts as one character, as it decodes to one; a surrogate pair of
// \u escapes (how Python writes an emoji) is one escape. Lone surrogates are left out.

/** A raw character that needs no escaping in JSON: decodes to itself. */
export const PLAIN_CHAR = '[^"\\\\\\u{0}-\\u{1f}]';
const ESCAPE =
  '\\\\(?:["\\\\/bfnrt]|u(?:[0-9a-cA-CefEF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}|[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}))';
export const STRING_CHAR = `(?:${PLAIN_CHAR}|${ESCAPE})`;
export const ANY_STRING = `"${STRING_CHAR}*"`;
