// The fake hub answers @huggingface/hub the way huggingface.co does: exercised through the library itself.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  downloadFile,
  fileDownloadInfo,
  HubApiError,
  listFiles,
  modelInfo,
  pathsInfo,
  snapshotDownload,
  type ListFileEntry,
} from '@huggingface/hub';
import { startFakeHub, VALID_TOKEN, type FakeHub } from '../helpers/fake-hub.js';

const REPO = 'test-org/tiny-gguf';
const GATED = 'test-org/gated-gguf';
const MANY = 'test-org/many-files';
const C1 = '1'.repeat(40);
const C2 = 'a2'.repeat(20);
const G1 = 'b3'.repeat(20);
const M1 = 'c4'.repeat(20);

function fakeGguf(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode('GGUF'));
  let state = seed;
  for (let i = 4; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const text = (s: string) => new TextEncoder().encode(s);
const GGUF = fakeGguf(64 * 1024, 42);
const GATED_GGUF = fakeGguf(20_000, 7);
const README = text('# tiny-gguf\n\nA fake model for tests.\n');
const CONFIG_V1 = text('{"model_type":"llama"}\n');
const CONFIG_V2 = text('{"model_type":"llama","context_length":256}\n');
const NOTES = text('notes\n');

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const gitBlobSha = (bytes: Uint8Array) => createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
const lfsPointer = (bytes: Uint8Array) =>
  text(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.byteLength}\n`);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function readStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

function isHubError(status: number, includes: string) {
  return (error: unknown) => {
    assert.ok(error instanceof HubApiError, `expected a HubApiError, got ${String(error)}`);
    assert.equal(error.statusCode, status);
    assert.ok(error.message.includes(includes), `"${error.message}" should include "${includes}"`);
    return true;
  };
}

describe('fake Hugging Face hub', () => {
  let hub: FakeHub;

  before(async () => {
    hub = await startFakeHub([
      {
        id: REPO,
        pipelineTag: 'text-generation',
        commits: {
          [C1]: { 'README.md': README, 'config.json': CONFIG_V1 },
          [C2]: { 'README.md': README, 'config.json': CONFIG_V2, 'model.gguf': GGUF, 'docs/notes.txt': NOTES },
        },
        refs: { main: C2, 'v1.0': C1, 'refs/pr/1': C1 },
      },
      { id: GATED, gated: true, commits: { [G1]: { 'model-q8_0.gguf': GATED_GGUF } }, refs: { main: G1 } },
      {
        id: MANY,
        commits: {
          [M1]: Object.fromEntries(Array.from({ length: 1005 }, (_, i) => [`f/${String(i).padStart(4, '0')}.txt`, text(`${i}`)])),
        },
        refs: { main: M1 },
      },
    ]);
  });

  after(async () => {
    await hub.close();
  });

  beforeEach(() => {
    hub.faults.cutNextDownloadAfter = undefined;
    hub.faults.misreportedSizes = undefined;
    hub.requests.length = 0;
  });

  describe('listFiles', () => {
    it('lists every file recursively with sizes, git oids, LFS oids and last commits', async () => {
      const entries = await collect(listFiles({ repo: REPO, recursive: true, expand: true, hubUrl: hub.url }));
      const byPath = new Map(entries.map((e) => [e.path, e]));
      assert.deepEqual([...byPath.keys()].sort(), ['README.md', 'config.json', 'docs', 'docs/notes.txt', 'model.gguf']);

      const gguf = byPath.get('model.gguf')!;
      assert.equal(gguf.type, 'file');
      assert.equal(gguf.size, GGUF.byteLength);
      assert.deepEqual(gguf.lfs, { oid: sha256(GGUF), size: GGUF.byteLength, pointerSize: lfsPointer(GGUF).byteLength });
      assert.equal(gguf.oid, gitBlobSha(lfsPointer(GGUF)), 'git stores the pointer file for LFS files');
      assert.equal(gguf.lastCommit?.id, C2);

      const readme = byPath.get('README.md')!;
      assert.equal(readme.size, README.byteLength);
      assert.equal(readme.oid, gitBlobSha(README));
      assert.equal(readme.lfs, undefined);
      assert.equal(readme.lastCommit?.id, C1, 'README.md did not change in the second commit');
      assert.ok(!Number.isNaN(Date.parse(readme.lastCommit!.date)));
      assert.equal(typeof readme.lastCommit?.title, 'string');

      assert.equal(byPath.get('config.json')?.lastCommit?.id, C2);
      assert.equal(byPath.get('docs')?.type, 'directory');
      assert.match(byPath.get('docs')!.oid!, /^[0-9a-f]{40}$/);

      const tree = hub.requests.find((r) => r.path.startsWith(`/api/models/${REPO}/tree/main`));
      assert.equal(tree?.path, `/api/models/${REPO}/tree/main?recursive=true&expand=true`);
    });

    it('lists one level without recursion, and a sub-folder, without lastCommit unless expanded', async () => {
      const top = await collect(listFiles({ repo: REPO, hubUrl: hub.url }));
      assert.deepEqual(
        top.map((e) => [e.path, e.type]),
        [
          ['README.md', 'file'],
          ['config.json', 'file'],
          ['docs', 'directory'],
          ['model.gguf', 'file'],
        ],
      );
      assert.ok(top.every((e) => e.lastCommit === undefined));
      const docs = await collect(listFiles({ repo: REPO, path: 'docs', hubUrl: hub.url }));
      assert.deepEqual(
        docs.map((e) => e.path),
        ['docs/notes.txt'],
      );
      await assert.rejects(collect(listFiles({ repo: REPO, path: 'nope', hubUrl: hub.url })), isHubError(404, 'does not exist'));
    });

    it('lists a tag, a commit sha and an unencoded refs/pr/1 revision', async () => {
      const paths = (entries: ListFileEntry[]) => entries.map((e) => e.path).sort();
      for (const revision of ['v1.0', C1, 'refs/pr/1']) {
        assert.deepEqual(paths(await collect(listFiles({ repo: REPO, revision, recursive: true, hubUrl: hub.url }))), [
          'README.md',
          'config.json',
        ]);
      }
      await assert.rejects(collect(listFiles({ repo: REPO, revision: 'nope', hubUrl: hub.url })), (error: unknown) => {
        assert.ok(error instanceof HubApiError && error.statusCode === 404);
        return true;
      });
    });

    it('pages long listings with a Link header', async () => {
      const entries = await collect(listFiles({ repo: MANY, recursive: true, hubUrl: hub.url }));
      assert.equal(entries.length, 1006); // 1005 files and the folder
      assert.equal(new Set(entries.map((e) => e.path)).size, 1006);
      const pages = hub.requests.filter((r) => r.path.startsWith(`/api/models/${MANY}/tree/`));
      assert.equal(pages.length, 2);
      assert.match(pages[1].path, /cursor=/);
    });
  });

  describe('modelInfo', () => {
    it('resolves main, HEAD (the default), a tag and a commit to the commit sha', async () => {
      for (const [revision, sha] of [
        ['main', C2],
        [undefined, C2],
        ['v1.0', C1],
        [C1, C1],
        [C2, C2],
      ] as const) {
        const info = await modelInfo({ name: REPO, revision, additionalFields: ['sha'], hubUrl: hub.url });
        assert.equal(info.sha, sha, `revision ${revision}`);
        assert.equal(info.name, REPO);
        assert.equal(info.task, 'text-generation');
        assert.equal(info.private, false);
        assert.equal(info.gated, false);
        assert.ok(info.updatedAt instanceof Date && !Number.isNaN(info.updatedAt.getTime()));
      }
      assert.ok(hub.requests.some((r) => r.path.startsWith(`/api/models/${REPO}/revision/HEAD?`)));
    });

    it('lists the files of the revision as filePaths (siblings)', async () => {
      const info = await modelInfo({ name: REPO, revision: 'v1.0', additionalFields: ['filePaths'], hubUrl: hub.url });
      assert.deepEqual(info.filePaths, ['README.md', 'config.json']);
    });

    it('answers with only _id, id and the expanded fields when expand is given, everything otherwise', async () => {
      const expanded = await (await fetch(`${hub.url}/api/models/${REPO}/revision/main?expand=sha&expand=pipeline_tag`)).json();
      assert.deepEqual(Object.keys(expanded).sort(), ['_id', 'id', 'pipeline_tag', 'sha']);
      const full = (await (await fetch(`${hub.url}/api/models/${REPO}`)).json()) as Record<string, unknown>;
      assert.equal(full.sha, C2);
      assert.equal(full.id, REPO);
      assert.equal(full.gated, false);
      assert.ok(Array.isArray(full.siblings));
    });

    it('reports unknown repos and revisions like the hub', async () => {
      await assert.rejects(modelInfo({ name: 'test-org/nope', hubUrl: hub.url }), isHubError(404, 'Repository not found'));
      await assert.rejects(modelInfo({ name: REPO, revision: 'nope', hubUrl: hub.url }), isHubError(404, 'nope'));
      const res = await fetch(`${hub.url}/test-org/nope/resolve/main/model.gguf`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-error-code'), 'RepoNotFound');
      assert.deepEqual(await res.json(), { error: 'Repository not found' });
      const rev = await fetch(`${hub.url}/${REPO}/resolve/nope/model.gguf`, { method: 'HEAD' });
      assert.equal(rev.headers.get('x-error-code'), 'RevisionNotFound');
      const entry = await fetch(`${hub.url}/${REPO}/resolve/main/nope.gguf`);
      assert.equal(entry.headers.get('x-error-code'), 'EntryNotFound');
    });
  });

  describe('pathsInfo', () => {
    it('describes the given paths, skipping missing ones', async () => {
      const infos = await pathsInfo({
        repo: REPO,
        paths: ['model.gguf', 'README.md', 'missing.bin', 'docs'],
        expand: true,
        hubUrl: hub.url,
      });
      assert.deepEqual(
        infos.map((i) => i.path),
        ['model.gguf', 'README.md', 'docs'],
      );
      assert.equal(infos[0].lfs?.oid, sha256(GGUF));
      assert.equal(infos[0].lastCommit?.id, C2);
      assert.equal(infos[1].oid, gitBlobSha(README));
      assert.equal(infos[1].lastCommit?.id, C1);
      assert.equal(infos[2].type, 'directory');
    });
  });

  describe('fileDownloadInfo', () => {
    it('gives size and etag of an LFS file, following the redirect to the content URL', async () => {
      const info = await fileDownloadInfo({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.ok(info);
      assert.equal(info.size, GGUF.byteLength);
      assert.equal(info.etag, `"${createHash('md5').update(GGUF).digest('hex')}"`, 'the CDN ETag, as fetch followed the 302');
      assert.equal(info.url, `${hub.url}/cdn/${sha256(GGUF)}?path=model.gguf`);
      assert.deepEqual(
        hub.requests.map((r) => [r.method, r.path, r.range]),
        [
          ['GET', `/${REPO}/resolve/main/model.gguf`, 'bytes=0-0'],
          ['GET', `/cdn/${sha256(GGUF)}?path=model.gguf`, 'bytes=0-0'],
        ],
      );
    });

    it('gives size and git etag of a plain file, served directly', async () => {
      const info = await fileDownloadInfo({ repo: REPO, path: 'config.json', revision: 'v1.0', hubUrl: hub.url });
      assert.equal(info?.size, CONFIG_V1.byteLength);
      assert.equal(info?.etag, `"${gitBlobSha(CONFIG_V1)}"`);
      assert.equal(hub.requests.length, 1);
    });

    it('gives null for a missing file', async () => {
      assert.equal(await fileDownloadInfo({ repo: REPO, path: 'missing.gguf', hubUrl: hub.url }), null);
    });
  });

  describe('resolve', () => {
    it('redirects LFS files with the linked size, etag and commit, on GET and HEAD', async () => {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${hub.url}/${REPO}/resolve/main/model.gguf`, { method, redirect: 'manual' });
        assert.equal(res.status, 302);
        assert.equal(res.headers.get('x-repo-commit'), C2);
        assert.equal(res.headers.get('x-linked-size'), String(GGUF.byteLength));
        assert.equal(res.headers.get('x-linked-etag'), `"${sha256(GGUF)}"`);
        assert.equal(res.headers.get('location'), `${hub.url}/cdn/${sha256(GGUF)}?path=model.gguf`);
      }
    });

    it('serves plain files with their git oid as ETag, and decodes an encoded revision', async () => {
      const res = await fetch(`${hub.url}/${REPO}/resolve/refs%2Fpr%2F1/config.json`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-repo-commit'), C1);
      assert.equal(res.headers.get('etag'), `"${gitBlobSha(CONFIG_V1)}"`);
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), CONFIG_V1);
      const tagged = await fetch(`${hub.url}/${REPO}/resolve/${C2}/config.json`, { method: 'HEAD' });
      assert.equal(tagged.headers.get('content-length'), String(CONFIG_V2.byteLength));
    });

    it('honours byte ranges, and answers 416 past the end', async () => {
      const cdn = `${hub.url}/cdn/${sha256(GGUF)}`;
      const part = await fetch(cdn, { headers: { Range: 'bytes=10-19' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-19/${GGUF.byteLength}`);
      assert.equal(part.headers.get('content-length'), '10');
      assert.deepEqual(new Uint8Array(await part.arrayBuffer()), GGUF.subarray(10, 20));
      const tail = await fetch(`${hub.url}/${REPO}/resolve/main/model.gguf`, { headers: { Range: 'bytes=65000-' } });
      assert.equal(tail.status, 206);
      assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), GGUF.subarray(65000));
      const past = await fetch(cdn, { headers: { Range: `bytes=${GGUF.byteLength}-` } });
      assert.equal(past.status, 416);
      assert.equal(past.headers.get('content-range'), `bytes */${GGUF.byteLength}`);
      await past.arrayBuffer();
    });

    it('serves the LFS pointer on /raw', async () => {
      const res = await fetch(`${hub.url}/${REPO}/raw/main/model.gguf`);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), lfsPointer(GGUF));
    });
  });

  describe('downloadFile', () => {
    it('returns a blob with the whole content', async () => {
      const blob = await downloadFile({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.ok(blob);
      assert.equal(blob.size, GGUF.byteLength);
      assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), GGUF);
      const readme = await downloadFile({ repo: REPO, path: 'README.md', hubUrl: hub.url });
      assert.equal(await readme?.text(), new TextDecoder().decode(README));
    });

    it('streams the bytes from an offset with a Range request (resume)', async () => {
      const blob = await downloadFile({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.ok(blob);
      hub.requests.length = 0;
      const from = 12_345;
      const rest = await readStream(blob.slice(from).stream());
      assert.deepEqual(rest, GGUF.subarray(from));
      assert.deepEqual(
        hub.requests.map((r) => [r.method, r.path, r.range]),
        [['GET', `/cdn/${sha256(GGUF)}?path=model.gguf`, `bytes=${from}-${GGUF.byteLength - 1}`]],
      );
    });

    it('fails on a download cut after N bytes, once', async () => {
      hub.faults.cutNextDownloadAfter = 1000;
      const blob = await downloadFile({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.ok(blob, 'the 1-byte probe of fileDownloadInfo is not cut');
      assert.equal(hub.faults.cutNextDownloadAfter, 1000);
      const received: Uint8Array[] = [];
      await assert.rejects(async () => {
        for await (const chunk of blob.stream() as unknown as AsyncIterable<Uint8Array>) received.push(chunk);
      });
      assert.equal(Buffer.concat(received).byteLength, 1000);
      assert.deepEqual(new Uint8Array(Buffer.concat(received)), GGUF.subarray(0, 1000));
      assert.equal(hub.faults.cutNextDownloadAfter, undefined);
      assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), GGUF, 'the next download is whole');

      hub.faults.cutNextDownloadAfter = 10;
      await assert.rejects(blob.slice(60_000).arrayBuffer());
    });

    it('reports misreported sizes everywhere but sends the real bytes', async () => {
      const wrong = GGUF.byteLength + 100;
      hub.faults.misreportedSizes = { 'model.gguf': wrong };
      const entries = await collect(listFiles({ repo: REPO, recursive: true, hubUrl: hub.url }));
      const gguf = entries.find((e) => e.path === 'model.gguf');
      assert.equal(gguf?.size, wrong);
      assert.equal(gguf?.lfs?.size, wrong);
      const head = await fetch(`${hub.url}/${REPO}/resolve/main/model.gguf`, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.headers.get('x-linked-size'), String(wrong));
      const info = await fileDownloadInfo({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.equal(info?.size, wrong);
      const blob = await downloadFile({ repo: REPO, path: 'model.gguf', hubUrl: hub.url });
      assert.equal(blob?.size, wrong);
      assert.deepEqual(new Uint8Array(await blob!.arrayBuffer()), GGUF);
      const readme = await listFiles({ repo: REPO, hubUrl: hub.url }).next();
      assert.equal(readme.value?.path, 'README.md');
      assert.equal(readme.value?.size, README.byteLength, 'other paths keep their size');
    });
  });

  describe('gated repo', () => {
    it('answers 401 GatedRepo naming the repo on every route without the token', async () => {
      const gated = isHubError(401, GATED);
      await assert.rejects(modelInfo({ name: GATED, hubUrl: hub.url }), gated);
      await assert.rejects(collect(listFiles({ repo: GATED, hubUrl: hub.url })), gated);
      await assert.rejects(pathsInfo({ repo: GATED, paths: ['model-q8_0.gguf'], hubUrl: hub.url }), gated);
      await assert.rejects(fileDownloadInfo({ repo: GATED, path: 'model-q8_0.gguf', hubUrl: hub.url }), gated);
      await assert.rejects(downloadFile({ repo: GATED, path: 'model-q8_0.gguf', hubUrl: hub.url }), gated);
      await assert.rejects(downloadFile({ repo: GATED, path: 'model-q8_0.gguf', hubUrl: hub.url, accessToken: 'hf_wrong' }), gated);
      const res = await fetch(`${hub.url}/${GATED}/resolve/main/model-q8_0.gguf`, { method: 'HEAD' });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-error-code'), 'GatedRepo');
      assert.match(res.headers.get('x-error-message') ?? '', /Access to model test-org\/gated-gguf is restricted/);
    });

    it('works with the valid token', async () => {
      const accessToken = VALID_TOKEN;
      const info = await modelInfo({ name: GATED, additionalFields: ['sha'], hubUrl: hub.url, accessToken });
      assert.equal(info.sha, G1);
      assert.equal(info.gated, 'manual');
      const files = await collect(listFiles({ repo: GATED, hubUrl: hub.url, accessToken }));
      assert.deepEqual(
        files.map((f) => f.path),
        ['model-q8_0.gguf'],
      );
      const blob = await downloadFile({ repo: GATED, path: 'model-q8_0.gguf', hubUrl: hub.url, accessToken });
      assert.deepEqual(new Uint8Array(await blob!.arrayBuffer()), GATED_GGUF);
      assert.ok(hub.requests.filter((r) => r.path.startsWith(`/${GATED}/`)).every((r) => r.authorization === `Bearer ${VALID_TOKEN}`));
    });
  });

  describe('snapshotDownload', () => {
    it('downloads the whole repo into a hub-style cache folder', async () => {
      const cacheDir = await mkdtemp(join(tmpdir(), 'fake-hub-'));
      const debug = console.debug;
      console.debug = () => {};
      try {
        const folder = await snapshotDownload({ repo: REPO, revision: 'v1.0', cacheDir, hubUrl: hub.url });
        assert.equal(folder, join(cacheDir, 'models--test-org--tiny-gguf', 'snapshots', C1));
        assert.deepEqual(new Uint8Array(await readFile(join(folder, 'config.json'))), CONFIG_V1);
        assert.equal(await readFile(join(cacheDir, 'models--test-org--tiny-gguf', 'refs', 'v1.0'), 'utf8'), C1);
        const main = await snapshotDownload({ repo: REPO, cacheDir, hubUrl: hub.url });
        assert.deepEqual(new Uint8Array(await readFile(join(main, 'model.gguf'))), GGUF);
        assert.deepEqual(new Uint8Array(await readFile(join(main, 'docs', 'notes.txt'))), NOTES);
      } finally {
        console.debug = debug;
        await rm(cacheDir, { recursive: true, force: true });
      }
    });
  });
});
