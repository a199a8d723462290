// Finding JSON values in generated text that may still be growing: where a value ends (or that it
// has not ended yet), and the members of an object with where each value starts and ends. Values
// are not decoded, so a call's arguments keep the exact text the model wrote.

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

export function skipWhitespace(text: string, at: number): number {
  while (at < text.length && WHITESPACE.has(text[at])) at++;
  return at;
}

export type ValueEnd =
  /** The value ends just before `end`. */
  | { readonly kind: 'complete'; readonly end: number }
  /** The text ends inside the value (it may go on). */
  | { readonly kind: 'partial' }
  /** No JSON value starts here. */
  | { readonly kind: 'invalid' };

const PARTIAL: ValueEnd = { kind: 'partial' };
const INVALID: ValueEnd = { kind: 'invalid' };

/** The end of the string whose opening quote is at `at`, or -1 when the text ends inside it. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

/**
 * Where the JSON value starting at `at` (no leading whitespace) ends. A number or literal that
 * reaches the end of the text is partial unless `final` (it could go on).
 */
export function jsonValueEnd(text: string, at: number, final = false): ValueEnd {
  if (at >= text.length) return final ? INVALID : PARTIAL;
  const first = text[at];
  if (first === '"') {
    const end = stringEnd(text, at);
    return end < 0 ? (final ? INVALID : PARTIAL) : { kind: 'complete', end };
  }
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        const end = stringEnd(text, i);
        if (end < 0) return final ? INVALID : PARTIAL;
        i = end - 1;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return { kind: 'complete', end: i + 1 };
      }
    }
    return final ? INVALID : PARTIAL;
  }
  const head = text.slice(at, at + 400);
  // A number the text cuts short in its fraction or exponent (`1.`, `2e`, `2e-`) may still go on.
  if (!final && at + head.length === text.length && /^-?(?:0|[1-9]\d*)(?:\.\d*)?(?:[eE][+-]?\d*)?$/.test(head)) return PARTIAL;
  const match = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(head);
  if (match === null) {
    // A prefix of a literal or number that the text cut short.
    if (!final && /^(?:-|t(?:r(?:u)?)?|f(?:a(?:l(?:s)?)?)?|n(?:u(?:l)?)?)$/.test(text.slice(at))) return PARTIAL;
    return INVALID;
  }
  const end = at + match[0].length;
  if (end === text.length && !final) return PARTIAL;
  return { kind: 'complete', end };
}

export interface ObjectMember {
  readonly key: string;
  readonly valueStart: number;
  /** null while the value is still being written. */
  readonly valueEnd: number | null;
}

export interface ObjectScan {
  readonly members: readonly ObjectMember[];
  /** Just past the closing brace; null while the object is open. */
  readonly end: number | null;
  /** The text is not (a prefix of) a JSON object. */
  readonly invalid: boolean;
}

/** The top-level members of the object whose `{` is at `at`, as far as the text goes. */
export function scanObject(text: string, at: number, final = false): ObjectScan {
  const members: ObjectMember[] = [];
  const open = (invalid: boolean): ObjectScan => ({ members, end: null, invalid: invalid || final });
  if (text[at] !== '{') return { members, end: null, invalid: at < text.length || final };
  let i = skipWhitespace(text, at + 1);
  if (text[i] === '}') return { members, end: i + 1, invalid: false };
  for (;;) {
    if (i >= text.length) return open(false);
    if (text[i] !== '"') return open(true);
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return open(false);
    let key: string;
    try {
      key = JSON.parse(text.slice(i, keyEnd)) as string;
    } catch {
      return open(true);
    }
    i = skipWhitespace(text, keyEnd);
    if (i >= text.length) return open(false);
    if (text[i] !== ':') return open(true);
    const valueStart = skipWhitespace(text, i + 1);
    const value = jsonValueEnd(text, valueStart, final);
    if (value.kind === 'invalid') return open(true);
    if (value.kind === 'partial') {
      if (valueStart < text.length) members.push({ key, valueStart, valueEnd: null });
      return open(false);
    }
    members.push({ key, valueStart, valueEnd: value.end });
    i = skipWhitespace(text, value.end);
    if (i >= text.length) return open(false);
    if (text[i] === '}') return { members, end: i + 1, invalid: false };
    if (text[i] !== ',') return open(true);
    i = skipWhitespace(text, i + 1);
  }
}

/** The decoded string value of a complete member, or undefined. */
export function stringMember(text: string, member: ObjectMember | undefined): string | undefined {
  if (!member || member.valueEnd === null) return undefined;
  try {
    const value: unknown = JSON.parse(text.slice(member.valueStart, member.valueEnd));
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How many characters at the end of `text` to hold back because they could be the start of one of
 * `markers` (so that content streamed so far never turns out to be part of a marker).
 */
export function heldBack(text: string, markers: readonly string[]): number {
  let longest = 0;
  for (const marker of markers) {
    for (let n = Math.min(marker.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(marker.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}
