// Which IP addresses an image URL may reach: public unicast only, unless the server allows
// private addresses. Refused: unspecified, loopback, private (RFC 1918, fc00::/7), shared
// (CGNAT 100.64/10), link-local (169.254/16, fe80::/10), multicast, reserved and documentation
// ranges, and any IPv6 form that embeds one of those IPv4 addresses (IPv4-mapped, -compatible,
// NAT64).
import { isIPv4, isIPv6 } from 'node:net';

/** [first octets, prefix length, what the range is]. */
const IPV4_BLOCKED: [number[], number, string][] = [
  [[0], 8, 'unspecified'],
  [[10], 8, 'private'],
  [[100, 64], 10, 'shared (CGNAT)'],
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local'],
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'],
  [[192, 0, 2], 24, 'documentation'],
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'benchmarking'],
  [[198, 51, 100], 24, 'documentation'],
  [[203, 0, 113], 24, 'documentation'],
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'],
];

const IPV6_BLOCKED: [number[], number, string][] = [
  [[0xfc], 7, 'private (unique local)'],
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'site-local'],
  [[0xff], 8, 'multicast'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'discard'],
];

function inPrefix(bytes: Uint8Array | number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((bytes[byte] & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address (with :: and a trailing dotted quad), or null when it is not one. */
function ipv6Bytes(address: string): Uint8Array | null {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!isIPv6(text)) return null;
  let tail: number[] = [];
  let body = text;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    tail = ipv4Bytes(quad[1]);
    body = text.slice(0, -quad[1].length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const [head, rest] = body.includes('::') ? body.split('::') : [body, null];
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = rest === null ? [] : groups(rest);
  const zeros = 8 - tail.length / 2 - left.length - right.length;
  const words = [...left, ...new Array(rest === null ? 0 : zeros).fill(0), ...right];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  bytes.set(tail, 16 - tail.length);
  return bytes;
}

function ipv4Refusal(octets: number[]): string | null {
  for (const [prefix, bits, what] of IPV4_BLOCKED) if (inPrefix(octets, prefix, bits)) return what;
  return null;
}

/**
 * Why an address may not be fetched from (e.g. 'loopback'), or null when it is public. Anything
 * that is not an IP address is refused as well.
 */
export function addressRefusal(address: string): string | null {
  if (isIPv4(address)) return ipv4Refusal(ipv4Bytes(address));
  const bytes = ipv6Bytes(address);
  if (!bytes) return 'not an IP address';
  const zeroUpTo = (n: number) => bytes.subarray(0, n).every((b) => b === 0);
  if (zeroUpTo(16)) return 'unspecified';
  if (zeroUpTo(15) && bytes[15] === 1) return 'loopback';
  const embedded = [...bytes.subarray(12)];
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64): judged as the IPv4 inside.
  const mapped = zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff;
  const nat64 = inPrefix(bytes, [0x00, 0x64, 0xff, 0x9b], 96);
  if (mapped || zeroUpTo(12) || nat64) {
    const why = ipv4Refusal(embedded);
    return why ? `${why}, as IPv6` : zeroUpTo(12) ? 'reserved' : null;
  }
  for (const [prefix, bits, what] of IPV6_BLOCKED) if (inPrefix(bytes, prefix, bits)) return what;
  return null;
}
