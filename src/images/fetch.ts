// Fetching an image URL without letting it reach into the server's own network. Each hop's host
// is resolved once, every resolved address is checked (./address.ts), and the connection goes to
// the checked address through node's `lookup` hook, with the URL's own Host header and TLS
// server name, so a DNS answer that changes between the check and the connection (rebinding)
// cannot slip through. Redirects are followed by hand, each hop checked again. One deadline
// covers the whole fetch; the body is counted while it streams and dropped past the byte limit.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DomainError } from '../core/errors.js';
import { addressRefusal } from './address.js';
import { imageError, type ImageLimits } from './limits.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why an address is refused, or null when it may be fetched from. */
type AddressRule = (address: string) => string | null;

/** A hop refused before connecting: the host resolved to a non-public address. */
class RefusedAddress extends Error {}

/** node's lookup, refusing a host any of whose addresses is not public (unless allowed). */
function checkedLookup(refusal: AddressRule | null): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (...args: never[]) => void) => {
    const done = callback as unknown as (error: Error | null, address?: string | LookupAddress[], family?: number) => void;
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return done(error);
      if (refusal) {
        for (const { address } of addresses) {
          const why = refusal(address);
          if (why) return done(new RefusedAddress(`${hostname} resolves to ${address}, ${a(why)} address`));
        }
      }
      if (addresses.length === 0) return done(new Error(`${hostname} has no address`));
      if (options.all) return done(null, addresses);
      done(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** The word with its indefinite article: 'a loopback', 'an unspecified'. */
function a(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Mentions the flag that would allow what was refused. */
const PRIVATE_HINT = 'image URLs must reach public addresses (the server allows others with --allow-private-image-urls)';

interface Hop {
  response: IncomingMessage;
}

function request(url: URL, refusal: AddressRule | null, signal: AbortSignal): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const req = client.get(url, {
      agent: false,
      lookup: checkedLookup(refusal),
      signal,
      headers: { accept: 'image/*', 'user-agent': 'tgi-node' },
    });
    req.once('response', (response) => resolve({ response }));
    req.once('error', reject);
  });
}

function readBody(response: IncomingMessage, limits: ImageLimits, param: string | null): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (data: Buffer) => {
      total += data.length;
      if (total > limits.maxBytes) {
        response.destroy();
        reject(imageError(param, `the image is larger than --max-image-fetch-size ${limits.maxBytes} bytes`));
        return;
      }
      chunks.push(data);
    });
    response.once('end', () => resolve(Buffer.concat(chunks)));
    response.once('error', reject);
    response.once('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the whole image arrived'));
    });
  });
}

function mediaType(response: IncomingMessage): string {
  return (response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * The bytes an http(s) image URL serves, or a validation DomainError naming `param`: a scheme
 * other than http(s), a refused address, a failed connection, a status other than 200, too many
 * redirects, a content type that is not an image, a body over `limits.maxBytes`, or no complete
 * answer within `limits.fetchTimeoutMs`.
 */
export async function fetchImage(
  url: string | URL,
  limits: ImageLimits,
  param: string | null = null,
  /** The address rule when private addresses are not allowed (tests narrow it to tell two local servers apart). */
  rule: AddressRule = addressRefusal,
): Promise<Uint8Array> {
  const refusal = limits.allowPrivateUrls ? null : rule;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw imageError(param, 'the image URL is not a valid URL');
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.fetchTimeoutMs);
  let response: IncomingMessage | undefined;
  try {
    for (let hop = 0; ; hop++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw imageError(param, `image URLs must be http(s) or data URIs, not ${current.protocol.slice(0, -1)}:`);
      }
      const host = current.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && refusal) {
        const why = refusal(host);
        if (why) throw imageError(param, `${host} is ${a(why)} address; ${PRIVATE_HINT}`);
      }
      ({ response } = await request(current, refusal, controller.signal));
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        const location = response.headers.location;
        response.destroy();
        if (!location) throw imageError(param, `fetching the image failed: HTTP ${status} without a Location`);
        if (hop >= limits.maxRedirects) throw imageError(param, `fetching the image took more than ${limits.maxRedirects} redirects`);
        current = new URL(location, current);
        continue;
      }
      if (status !== 200) {
        response.destroy();
        throw imageError(param, `fetching the image failed: HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
      }
      const type = mediaType(response);
      if (type && !type.startsWith('image/') && type !== 'application/octet-stream') {
        response.destroy();
        throw imageError(param, `the URL serves ${type}, not an image`);
      }
      const length = Number(response.headers['content-length']);
      if (Number.isFinite(length) && length > limits.maxBytes) {
        response.destroy();
        throw imageError(param, `the image is ${length} bytes, more than --max-image-fetch-size ${limits.maxBytes}`);
      }
      return await readBody(response, limits, param);
    }
  } catch (error) {
    response?.destroy();
    if (controller.signal.aborted) {
      throw imageError(param, `fetching the image took longer than --image-fetch-timeout ${seconds(limits.fetchTimeoutMs)}`);
    }
    if (error instanceof RefusedAddress) throw imageError(param, `${error.message}; ${PRIVATE_HINT}`);
    if (error instanceof DomainError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw imageError(param, `fetching the image failed: ${reason}`);
  } finally {
    clearTimeout(timer);
  }
}
