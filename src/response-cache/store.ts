// Whole HTTP responses kept in memory under a key, least recently used first out, bounded by bytes.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface CachedResponse {
  /** The headers that describe the body (content type, the application's x-* headers). */
  headers: Record<string, string>;
  body: Buffer;
}

/** What an entry costs beside its body and headers: the key, the objects, the LRU's slots. */
const ENTRY_OVERHEAD_BYTES = 256;

export function entryBytes(response: CachedResponse): number {
  let bytes = response.body.length + ENTRY_OVERHEAD_BYTES;
  for (const [name, value] of Object.entries(response.headers)) bytes += name.length + value.length;
  return bytes;
}

/** The largest entry kept, as a share of the whole cache: one answer never empties it. */
const MAX_ENTRY_SHARE = 1 / 8;

export class ResponseCache {
  private readonly entries: LRUCache<string, CachedResponse>;
  /** The largest entry kept; larger answers are not (their capture stops there too). */
  readonly maxEntryBytes: number;

  /** `maxBytes` > 0: what the entries may take in all. */
  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 1)) throw new RangeError(`a response cache needs at least one byte, got ${maxBytes}`);
    this.maxEntryBytes = Math.max(1, Math.floor(maxBytes * MAX_ENTRY_SHARE));
    this.entries = new LRUCache<string, CachedResponse>({
      maxSize: Math.floor(maxBytes),
      maxEntrySize: this.maxEntryBytes,
      sizeCalculation: entryBytes,
    });
  }

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  /** Keeps `response`, evicting the least recently used entries to make room; too large: not kept. */
  set(key: string, response: CachedResponse): void {
    if (entryBytes(response) > this.maxEntryBytes) return;
    this.entries.set(key, response);
  }

  /** Bytes the entries take now. */
  get bytes(): number {
    return this.entries.calculatedSize;
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * JSON text of a parsed body with every object's keys in one order (code unit order), so that
 * bodies that differ only in key order read the same. Integers beyond 2^53 (bigint) are written
 * exactly. Bodies are nested at most 64 deep (json-body.ts), so the recursion is bounded.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** The key of a request: what it asks (method and route, its body in canonical form) of which model. */
export function requestKey(route: string, model: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([route, model]))
    .update('\n')
    .update(canonicalJson(body))
    .digest('base64url');
}
