// Fetching image URLs: local servers on 127.0.0.1 (and 127.0.0.2, to tell a checked hop from a
// refused one) serve images, redirects, wrong types, oversized and stalled bodies. Positive
// fetches allow private addresses, as a server started with --allow-private-image-urls does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DomainError } from '../../src/core/errors.js';
import { addressRefusal } from '../../src/images/address.js';
import { fetchImage } from '../../src/images/fetch.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../../src/images/limits.js';
import { loadImage } from '../../src/images/source.js';
import { expectedRgb, imageServer, picture, png } from '../helpers/images.js';

const PARAM = 'messages[0].content[1].image_url';
const allowed: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, allowPrivateUrls: true, fetchTimeoutMs: 5000 };
const strict: ImageLimits = { ...allowed, allowPrivateUrls: false };
/** Private addresses refused, except 127.0.0.1 itself: the local test server stands for a public host. */
const onlyFirstLoopback = (address: string) => (address === '127.0.0.1' ? null : addressRefusal(address));

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.kind, 'validation');
    assert.equal(error.param, PARAM);
    assert.match(error.message, pattern);
    return true;
  });
}

const image = picture(9, 6);
const imageBytes = png(image);

describe('fetching image URLs', () => {
  const hits: string[] = [];
  let server: Awaited<ReturnType<typeof imageServer>>;
  let other: http.Server;
  let otherHits = 0;
  let otherUrl = '';

  before(async () => {
    server = await imageServer((req, res) => {
      const url = req.url ?? '/';
      hits.push(url);
      if (url === '/image.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(imageBytes);
      if (url === '/octet') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(imageBytes);
      if (url === '/html') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html></html>');
      if (url === '/missing') return res.writeHead(404).end();
      if (url === '/big-declared')
        return res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' }).end(Buffer.alloc(5000));
      if (url === '/big-streamed') {
        // No length given: the body is counted while it arrives.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(imageBytes);
        const timer = setInterval(() => res.write(Buffer.alloc(1024)), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (url === '/silent') return; // accepts the request, never answers
      if (url === '/stalled') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(imageBytes.subarray(0, 10));
        return; // the rest never comes
      }
      const redirect = /^\/r\/(\d+)$/.exec(url);
      if (redirect) return res.writeHead(302, { location: `/r/${Number(redirect[1]) + 1}` }).end();
      if (url === '/two-hops') return res.writeHead(301, { location: '/one-hop' }).end();
      if (url === '/one-hop') return res.writeHead(307, { location: server.url('/image.png') }).end();
      if (url === '/to-other') return res.writeHead(302, { location: otherUrl }).end();
      if (url === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      res.writeHead(500).end();
    });
    other = http.createServer((_req, res) => {
      otherHits++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(imageBytes);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
    otherUrl = `http://127.0.0.2:${(other.address() as AddressInfo).port}/image.png`;
  });

  after(async () => {
    await server.close();
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  });

  it('fetches and decodes an image', async () => {
    const decoded = await loadImage(server.url('/image.png'), allowed, PARAM);
    assert.deepEqual([decoded.width, decoded.height, decoded.format], [9, 6, 'png']);
    assert.deepEqual(decoded.rgb, expectedRgb(image));
    // application/octet-stream is taken, then sniffed.
    assert.deepEqual(Buffer.from(await fetchImage(server.url('/octet'), allowed, PARAM)), imageBytes);
  });

  it('refuses loopback and private addresses unless allowed, without connecting', async () => {
    const before = hits.length;
    await refused(
      fetchImage(server.url('/image.png'), strict, PARAM),
      /127\.0\.0\.1 is a loopback address; image URLs must reach public addresses \(the server allows others with --allow-private-image-urls\)/,
    );
    // A host name is judged by the addresses it resolves to.
    const port = new URL(server.url('/')).port;
    await refused(
      fetchImage(`http://localhost:${port}/image.png`, strict, PARAM),
      /localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
    await refused(fetchImage('http://10.1.2.3/x.png', strict, PARAM), /10\.1\.2\.3 is a private address/);
    await refused(fetchImage('http://169.254.169.254/latest/meta-data', strict, PARAM), /169\.254\.169\.254 is a link-local address/);
    await refused(fetchImage('http://[::ffff:127.0.0.1]/x.png', strict, PARAM), /is a loopback, as IPv6 address/);
    await refused(fetchImage('http://[fd00::1]/x.png', strict, PARAM), /fd00::1 is a private \(unique local\) address/);
    // Other spellings of an address are normalised by the URL parser before they are judged.
    await refused(fetchImage('http://2130706433/x.png', strict, PARAM), /127\.0\.0\.1 is a loopback address/);
    await refused(fetchImage('http://0x7f.1/x.png', strict, PARAM), /127\.0\.0\.1 is a loopback address/);
    await refused(fetchImage('http://[::]/x.png', strict, PARAM), /:: is an unspecified address/);
    assert.equal(hits.length, before);
    // Allowed, the same URL is fetched.
    assert.equal((await fetchImage(`http://localhost:${port}/image.png`, allowed, PARAM)).length, imageBytes.length);
  });

  it('checks every redirect hop: a redirect to a refused address is not followed', async () => {
    const before = otherHits;
    await refused(fetchImage(server.url('/to-other'), strict, PARAM, onlyFirstLoopback), /127\.0\.0\.2 is a loopback address/);
    assert.equal(otherHits, before);
    // Allowed, the redirect is followed to the other server.
    assert.deepEqual(Buffer.from(await fetchImage(server.url('/to-other'), allowed, PARAM)), imageBytes);
    assert.equal(otherHits, before + 1);
    // The first hop is allowed by the same rule.
    assert.equal((await fetchImage(server.url('/image.png'), strict, PARAM, onlyFirstLoopback)).length, imageBytes.length);
    await refused(fetchImage(server.url('/to-file'), allowed, PARAM), /must be http\(s\) or data URIs, not file:/);
  });

  it('follows redirects up to the limit', async () => {
    assert.equal((await fetchImage(server.url('/two-hops'), { ...allowed, maxRedirects: 2 }, PARAM)).length, imageBytes.length);
    await refused(fetchImage(server.url('/two-hops'), { ...allowed, maxRedirects: 1 }, PARAM), /took more than 1 redirects/);
    const before = hits.length;
    await refused(fetchImage(server.url('/r/0'), { ...allowed, maxRedirects: 3 }, PARAM), /took more than 3 redirects/);
    assert.deepEqual(hits.slice(before), ['/r/0', '/r/1', '/r/2', '/r/3']);
  });

  it('refuses what is not an image, and failed statuses', async () => {
    await refused(fetchImage(server.url('/html'), allowed, PARAM), /the URL serves text\/html, not an image/);
    await refused(fetchImage(server.url('/missing'), allowed, PARAM), /fetching the image failed: HTTP 404 Not Found/);
    await refused(loadImage('ftp://example.com/a.png', allowed, PARAM), /must be http\(s\) or data URIs, not ftp:/);
    await refused(fetchImage('http://exa mple.com/', allowed, PARAM), /not a valid URL/);
  });

  it('a closed port is a clear error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await refused(fetchImage(`http://127.0.0.1:${port}/a.png`, allowed, PARAM), /fetching the image failed: connect ECONNREFUSED/);
  });

  it('stops at the byte limit: declared, or counted while the body streams', async () => {
    const small = { ...allowed, maxBytes: 4096 };
    await refused(fetchImage(server.url('/big-declared'), small, PARAM), /the image is 5000 bytes, more than --max-image-fetch-size 4096/);
    await refused(fetchImage(server.url('/big-streamed'), small, PARAM), /the image is larger than --max-image-fetch-size 4096 bytes/);
  });

  it('gives up after the timeout: no answer, or a body that stalls', async () => {
    const quick = { ...allowed, fetchTimeoutMs: 200 };
    await refused(fetchImage(server.url('/silent'), quick, PARAM), /fetching the image took longer than --image-fetch-timeout 0\.2 s/);
    await refused(fetchImage(server.url('/stalled'), quick, PARAM), /took longer than --image-fetch-timeout 0\.2 s/);
  });
});

describe('which addresses are public', () => {
  it('refuses every non-public range, in IPv4 and IPv6 forms', () => {
    const cases: [string, string | null][] = [
      ['8.8.8.8', null],
      ['93.184.216.34', null],
      ['2606:4700:4700::1111', null],
      ['0.0.0.0', 'unspecified'],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', null],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['100.127.255.255', 'shared (CGNAT)'],
      ['100.128.0.1', null],
      ['169.254.169.254', 'link-local'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fc00::1', 'private (unique local)'],
      ['fdff::1', 'private (unique local)'],
      ['fe80::1', 'link-local'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback, as IPv6'],
      ['::ffff:7f00:1', 'loopback, as IPv6'],
      ['::ffff:10.0.0.1', 'private, as IPv6'],
      ['::ffff:8.8.8.8', null],
      ['64:ff9b::192.168.0.1', 'private, as IPv6'],
      ['64:ff9b::8.8.8.8', null],
      ['::127.0.0.1', 'loopback, as IPv6'],
      ['localhost', 'not an IP address'],
    ];
    for (const [address, why] of cases) assert.equal(addressRefusal(address), why, address);
  });
});
