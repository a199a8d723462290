// A JSON value (from enum or const) as the regex of its texts: its tokens exactly, with the usual
// whitespace between them. Numbers keep JSON.stringify's spelling only.
import { escapeLiteral, WS } from './regex-text.js';

const SEPARATOR = `${WS},${WS}`;

export function jsonLiteral(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `\\[${WS}\\]`;
    return `\\[${WS}${value.map(jsonLiteral).join(SEPARATOR)}${WS}\\]`;
  }
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([key, item]) => `${escapeLiteral(JSON.stringify(key))}${WS}:${WS}${jsonLiteral(item)}`);
    if (members.length === 0) return `\\{${WS}\\}`;
    return `\\{${WS}${members.join(SEPARATOR)}${WS}\\}`;
  }
  return escapeLiteral(JSON.stringify(value));
}
