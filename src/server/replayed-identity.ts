// A cached OpenAI answer replayed as a response of its own: the same content under a fresh `id`
// (chatcmpl-…, cmpl-…) and `created`, in a whole JSON body and in every chunk of a replayed stream
// (the chunks of one stream share their new id, as they shared the old one). Only the top-level
// `id` and `created` of an envelope change; native answers carry neither and replay byte for byte.
import { completionId, unixSeconds } from './openai-output.js';
import { jsonValueEnd } from '../chat/tools/json-scan.js';

const ID_PREFIXES = ['chatcmpl', 'cmpl'] as const;
type IdPrefix = (typeof ID_PREFIXES)[number];

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && WHITESPACE.has(text[i])) i++;
  return i;
}

/** The end (exclusive) of the JSON string opening at `start`; -1 if it never closes. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

interface Field {
  key: string;
  /** The span of its value in the text. */
  start: number;
  end: number;
}

/** The members of the JSON object `text`, with the spans of their values; undefined if it is not one. */
function topLevelFields(text: string): Field[] | undefined {
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') return undefined;
  const fields: Field[] = [];
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') return fields;
  for (;;) {
    if (text[i] !== '"') return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return undefined;
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    const start = skipWhitespace(text, i + 1);
    const value = jsonValueEnd(text, start, true);
    if (value.kind !== 'complete') return undefined;
    const end = value.end;
    fields.push({ key, start, end });
    i = skipWhitespace(text, end);
    if (text[i] === '}') return fields;
    if (text[i] !== ',') return undefined;
    i = skipWhitespace(text, i + 1);
  }
}

function idPrefixOf(id: unknown): IdPrefix | undefined {
  return typeof id === 'string' ? ID_PREFIXES.find((prefix) => id.startsWith(`${prefix}-`)) : undefined;
}

/** One replay's new identity: an id for each id of the stored answer, one `created`. */
class FreshIdentity {
  private readonly ids = new Map<string, string>();
  readonly created = unixSeconds();

  idFor(old: string, prefix: IdPrefix): string {
    let id = this.ids.get(old);
    if (id === undefined) {
      id = completionId(prefix);
      this.ids.set(old, id);
    }
    return id;
  }

  /** `json` with its top-level completion `id` and `created` replaced; other texts as they were. */
  rewrite(json: string): string {
    const fields = topLevelFields(json);
    const idField = fields?.find((field) => field.key === 'id');
    if (!fields || !idField) return json;
    const old = JSON.parse(json.slice(idField.start, idField.end)) as unknown;
    const prefix = idPrefixOf(old);
    if (prefix === undefined) return json;
    const replacements = [{ ...idField, text: JSON.stringify(this.idFor(old as string, prefix)) }];
    const created = fields.find((field) => field.key === 'created');
    if (created && /^\d+$/.test(json.slice(created.start, created.end))) replacements.push({ ...created, text: String(this.created) });
    replacements.sort((a, b) => b.start - a.start);
    let out = json;
    for (const r of replacements) out = out.slice(0, r.start) + r.text + out.slice(r.end);
    return out;
  }
}

/** Marks of an OpenAI answer; a body without them (a native answer) is never decoded. */
const ID_MARKS = ID_PREFIXES.map((prefix) => Buffer.from(`"${prefix}-`));

/**
 * The body a response-cache hit sends: `body` as stored, with fresh completion ids and `created`
 * when it is an OpenAI answer (a JSON body, or the `data:` events of a stream).
 */
export function withFreshIdentity(body: Buffer, headers: Record<string, string>): Buffer {
  if (!ID_MARKS.some((mark) => body.includes(mark))) return body;
  const identity = new FreshIdentity();
  const text = body.toString('utf8');
  const contentType = (headers['content-type'] ?? '').toLowerCase();
  const rewritten = contentType.startsWith('text/event-stream')
    ? text.replace(/^(data: ?)(\{.*)$/gm, (_line, field: string, json: string) => field + identity.rewrite(json))
    : identity.rewrite(text);
  return Buffer.from(rewritten, 'utf8');
}
