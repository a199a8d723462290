// Request bodies as JSON: nesting bounded (deeper bodies are a 422 naming the field, never a stack
// overflow further on), and integers beyond 2^53 kept exact as bigint (a u64 seed is valid input).
import { parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { BodyShapeError } from './parse.js';

/** Arrays and objects nested deeper than this are refused; real requests stay far below it. */
const MAX_JSON_DEPTH = 64;

/** Path segments a message shows of an over-deep field before eliding the rest. */
const SHOWN_PATH_SEGMENTS = 6;

interface JsonInspection {
  /** The path of the first value nested deeper than the limit. */
  tooDeepAt?: (string | number)[];
  /** Whether an integer lost precision when read as a double. */
  hasUnsafeInteger: boolean;
}

interface Frame {
  container: unknown[] | Record<string, unknown>;
  keys: string[] | null;
  index: number;
}

/** One iterative walk (no recursion, whatever the depth) over a parsed JSON value. */
function inspectJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonInspection {
  let hasUnsafeInteger = false;
  const stack: Frame[] = [];
  const path: (string | number)[] = [];
  const visit = (v: unknown): (string | number)[] | undefined => {
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) hasUnsafeInteger = true;
      return undefined;
    }
    if (v === null || typeof v !== 'object') return undefined;
    if (stack.length >= maxDepth) return [...path];
    const keys = Array.isArray(v) ? null : Object.keys(v);
    stack.push({ container: v as Frame['container'], keys, index: 0 });
    return undefined;
  };
  let tooDeep = visit(value);
  while (stack.length > 0 && !tooDeep) {
    const frame = stack[stack.length - 1];
    const length = frame.keys ? frame.keys.length : (frame.container as unknown[]).length;
    if (frame.index >= length) {
      stack.pop();
      path.pop();
      continue;
    }
    const key = frame.keys ? frame.keys[frame.index] : frame.index;
    frame.index++;
    if (path.length === stack.length) path[path.length - 1] = key;
    else path.push(key);
    tooDeep = visit((frame.container as Record<string | number, unknown>)[key]);
  }
  return tooDeep ? { tooDeepAt: tooDeep, hasUnsafeInteger } : { hasUnsafeInteger };
}

/** A dotted path, cut after a few segments: the field is named, the rest of a deep path elided. */
function shortPath(path: (string | number)[]): string {
  const shown = path.slice(0, SHOWN_PATH_SEGMENTS).map(String).join('.');
  return path.length > SHOWN_PATH_SEGMENTS ? `${shown}...` : shown;
}

export function tooDeepMessage(where: string, maxDepth = MAX_JSON_DEPTH): string {
  return `${where ? `${where}: ` : ''}nested too deeply (more than ${maxDepth} levels of arrays and objects)`;
}

const INTEGER_TEXT = /^-?\d+$/;

function exactNumber(text: string): number | bigint {
  const value = Number(text);
  return INTEGER_TEXT.test(text) && !Number.isSafeInteger(value) ? BigInt(text) : value;
}

/**
 * Parses a request body. Throws SyntaxError on malformed JSON and BodyShapeError (a 422) on
 * nesting beyond the limit. Integers that a double cannot hold exactly come back as bigint.
 */
export function parseJsonBody(text: string): unknown {
  return checkedJsonBody(text, JSON.parse(text));
}

/** `value` (JSON.parse of `text`) checked as parseJsonBody does. */
export function checkedJsonBody(text: string, value: unknown): unknown {
  const inspection = inspectJson(value);
  if (inspection.tooDeepAt) {
    const where = shortPath(inspection.tooDeepAt);
    throw new BodyShapeError(`Failed to deserialize the JSON body into the target type: ${tooDeepMessage(where)}`, where || null);
  }
  if (!inspection.hasUnsafeInteger) return value;
  // A value JSON.parse dropped (a duplicate key) may nest deeper than what it kept; the exact
  // parser below recurses, so the text itself must be within the bound too.
  if (textNestingExceeds(text, MAX_JSON_DEPTH))
    throw new BodyShapeError(`Failed to deserialize the JSON body into the target type: ${tooDeepMessage('')}`);
  // Rare: only bodies holding an integer beyond 2^53 pay for the exact (slower) parser.
  return parseLossless(text, null, { parseNumber: exactNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** Whether arrays and objects in JSON `text` nest deeper than `maxDepth` (strings skipped). */
function textNestingExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Parses JSON found inside a request (a tool call's arguments), with the same depth bound. */
export function parseNestedJson(text: string): { value: unknown } | { tooDeep: true } {
  const value: unknown = JSON.parse(text);
  return inspectJson(value).tooDeepAt ? { tooDeep: true } : { value };
}

/** JSON text of a response; a bigint (an echoed u64 seed) is written as the exact integer. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // Only a response holding a bigint gets here; the library writes it as a JSON integer.
    return stringifyLossless(value) ?? 'null';
  }
}

/**
 * A copy of a parsed body with every bigint as the nearest number, for consumers that only know
 * JSON numbers (chat templates, JSON.stringify). Returns `value` itself when it holds no bigint.
 */
export function bigintsAsNumbers<T>(value: T): T {
  if (!containsBigint(value)) return value;
  return JSON.parse(stringifyJson(value)) as T;
}

function containsBigint(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'bigint') return true;
    if (Array.isArray(v)) for (const item of v) stack.push(item);
    else if (v !== null && typeof v === 'object') for (const item of Object.values(v)) stack.push(item);
  }
  return false;
}
