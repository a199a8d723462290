// Python's `json.dumps(value)` with its defaults: separators ", " and ": ", and ensure_ascii, which
// writes every character outside " ".."~" as \uXXXX (lowercase hex, astral ones as surrogate pairs).
// Numbers are written as Python writes what `json.load` made of them: a LosslessNumber keeps its
// source text, so "5.0" is a float ("5.0") and "10" an int; a plain number (JSON.parse has lost
// the difference) is an int when integral and JavaScript writes all its digits, else a float.
import { isLosslessNumber } from 'lossless-json';

export function pythonJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (isLosslessNumber(value)) return pythonNumberAsWritten(value.value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value).map(([key, member]) => `${pythonString(key)}: ${pythonJsonDumps(member)}`);
    return `{${members.join(', ')}}`;
  }
  throw new TypeError(`not JSON data: ${typeof value}`);
}

function pythonNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value === 0 ? 0 : value);
  return pythonFloatRepr(value);
}

/** `json.dumps(json.loads(text))` for a JSON number's text: ints keep every digit. */
function pythonNumberAsWritten(text: string): string {
  if (/[.eE]/.test(text)) return pythonFloatRepr(Number(text));
  return text === '-0' ? '0' : text;
}

/** Python's repr of a double: JavaScript's shortest digits, in fixed notation for decimal exponents -4..15. */
function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  // In that range JavaScript writes fixed notation too, without the ".0" of an integral float.
  if (!Number.isInteger(value)) return String(value);
  return `${Object.is(value, -0) ? '-0' : String(value)}.0`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out + '"';
}
