// A local stand-in for huggingface.co that answers the routes @huggingface/hub (2.17.5) uses to list and
// download model files, with the status codes, headers and JSON shapes the real hub sends.
//
// Routes (all model repos; datasets and spaces are always "not found"):
//   GET|HEAD /api/models/{org}/{name}[/revision/{rev}]        model info (`expand` / `expand[]` select fields)
//   GET|HEAD /api/models/{org}/{name}/tree/{rev}[/{path}]     tree listing (`recursive`, `expand`, `cursor`; `Link` paging)
//   POST     /api/models/{org}/{name}/paths-info/{rev}        info on given paths (JSON or form body)
//   GET|HEAD /{org}/{name}/resolve/{rev}/{path}               plain file: the bytes; LFS file: 302 to /cdn/{sha256}
//   GET|HEAD /{org}/{name}/raw/{rev}/{path}                   the git blob (the pointer file for LFS files)
//   GET|HEAD /cdn/{sha256}?path={path}                        LFS content, like the hub's signed CDN URLs (no auth)
//
// The commits of a repo are taken, in the insertion order of `FakeRepo.commits`, as one linear history, oldest
// first; it only matters for `lastCommit` (the commit that last changed a path) and `lastModified`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  id: string; // "org/name"
  commits: Record<string, Record<string, Uint8Array>>; // 40-hex commit sha -> { path: content }
  refs: Record<string, string>; // branch or tag name -> commit sha (must include "main")
  /** Without "Authorization: Bearer hf_valid_token" every route of the repo answers 401 GatedRepo. */
  gated?: boolean;
  pipelineTag?: string;
}

export interface HubRequest {
  method: string;
  /** The request target as received: path and query string, still URL-encoded. */
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string; // http://127.0.0.1:<port>
  requests: HubRequest[]; // every request received, in order
  faults: {
    /**
     * The next content download (the bytes of a file, from /resolve, /raw or /cdn) whose body is longer than this
     * many bytes is cut after this many bytes: headers announce the full length, then the socket is destroyed
     * mid-body. Shorter bodies (such as the 1-byte `Range: bytes=0-0` probe) leave the fault armed. One-shot.
     */
    cutNextDownloadAfter?: number;
    /**
     * Report this size (X-Linked-Size, tree and paths-info `size`/`lfs.size`, Content-Range total, Content-Length
     * of HEAD answers) for a path instead of the real one. The bytes sent are always the real ones.
     */
    misreportedSizes?: Record<string, number>;
    /** Send content downloads larger than 64 KiB at about this many bytes per second (a slow link). */
    trickleBytesPerSecond?: number;
  };
  close(): Promise<void>;
}

export const VALID_TOKEN = 'hf_valid_token';

/** Files with a name ending in .gguf, or larger than this, are stored with Git LFS. */
const LFS_THRESHOLD = 10_000;
/** Entries per page of the tree listing. */
const TREE_PAGE_SIZE = 1000;
const HISTORY_START = Date.UTC(2024, 0, 1);
const COMMIT_SHA = /^[0-9a-f]{40}$/;

interface StoredFile {
  path: string;
  content: Uint8Array;
  /** git blob sha1 of what git stores: the content, or the pointer file for LFS files */
  oid: string;
  lfs?: { sha256: string; pointer: Uint8Array; md5: string };
}

interface StoredCommit {
  sha: string;
  index: number;
  title: string;
  date: string;
  files: Map<string, StoredFile>;
  /** directory path ("" for the root) -> git tree sha1 */
  trees: Map<string, string>;
}

interface StoredRepo {
  id: string;
  mongoId: string;
  gated: boolean;
  pipelineTag?: string;
  refs: Map<string, string>;
  commits: Map<string, StoredCommit>;
  history: StoredCommit[];
}

class HubError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const repoNotFound = () => new HubError(404, 'RepoNotFound', 'Repository not found');
const revisionNotFound = (revision: string) => new HubError(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);

function hex(algorithm: string, ...parts: (string | Uint8Array)[]): string {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function gitObjectSha(type: 'blob' | 'tree', body: Uint8Array): string {
  return hex('sha1', `${type} ${body.byteLength}\0`, body);
}

function storeFile(path: string, content: Uint8Array): StoredFile {
  if (!path.endsWith('.gguf') && content.byteLength <= LFS_THRESHOLD) {
    return { path, content, oid: gitObjectSha('blob', content) };
  }
  const sha256 = hex('sha256', content);
  const pointer = new TextEncoder().encode(
    `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.byteLength}\n`,
  );
  return { path, content, oid: gitObjectSha('blob', pointer), lfs: { sha256, pointer, md5: hex('md5', content) } };
}

/** The git tree sha1 of every directory of a commit, computed the way git does. */
function computeTrees(files: Map<string, StoredFile>): Map<string, string> {
  const children = new Map<string, Map<string, { dir: boolean; oid?: string }>>();
  const dirOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
  const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  const ensureDir = (dir: string) => {
    if (children.has(dir)) return;
    children.set(dir, new Map());
    if (dir !== '') {
      ensureDir(dirOf(dir));
      children.get(dirOf(dir))!.set(nameOf(dir), { dir: true });
    }
  };
  ensureDir('');
  for (const file of files.values()) {
    ensureDir(dirOf(file.path));
    children.get(dirOf(file.path))!.set(nameOf(file.path), { dir: false, oid: file.oid });
  }
  const trees = new Map<string, string>();
  const treeSha = (dir: string): string => {
    const entries = [...children.get(dir)!].map(([name, entry]) => ({
      name,
      mode: entry.dir ? '40000' : '100644',
      oid: entry.dir ? treeSha(dir === '' ? name : `${dir}/${name}`) : entry.oid!,
      // git orders tree entries by name, comparing a directory as if its name ended with "/"
      key: Buffer.from(entry.dir ? `${name}/` : name),
    }));
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex')]));
    const sha = gitObjectSha('tree', body);
    trees.set(dir, sha);
    return sha;
  };
  treeSha('');
  return trees;
}

function storeRepo(repo: FakeRepo, contentBySha256: Map<string, Uint8Array>): StoredRepo {
  if (!/^[^/]+\/[^/]+$/.test(repo.id)) throw new Error(`fake hub: repo id "${repo.id}" is not "org/name"`);
  const history: StoredCommit[] = [];
  const commits = new Map<string, StoredCommit>();
  let previous: StoredCommit | undefined;
  for (const [sha, files] of Object.entries(repo.commits)) {
    if (!COMMIT_SHA.test(sha)) throw new Error(`fake hub: commit "${sha}" of ${repo.id} is not 40 lowercase hex digits`);
    const stored = new Map<string, StoredFile>();
    for (const [path, content] of Object.entries(files)) {
      if (path === '' || path.startsWith('/') || path.endsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw new Error(`fake hub: bad file path "${path}" in ${repo.id}@${sha}`);
      }
      const file = storeFile(path, content);
      stored.set(path, file);
      if (file.lfs) contentBySha256.set(file.lfs.sha256, content);
    }
    const changed = [...stored.values()].filter((f) => previous?.files.get(f.path)?.oid !== f.oid).map((f) => f.path);
    const commit: StoredCommit = {
      sha,
      index: history.length,
      title: previous === undefined ? 'initial commit' : changed.length === 1 ? `Upload ${changed[0]}` : `Upload ${changed.length} files`,
      date: new Date(HISTORY_START + history.length * 3_600_000).toISOString(),
      files: stored,
      trees: computeTrees(stored),
    };
    history.push(commit);
    commits.set(sha, commit);
    previous = commit;
  }
  const refs = new Map(Object.entries(repo.refs));
  if (!refs.has('main')) throw new Error(`fake hub: ${repo.id} has no "main" ref`);
  for (const [name, sha] of refs) {
    if (!commits.has(sha)) throw new Error(`fake hub: ref "${name}" of ${repo.id} points to unknown commit ${sha}`);
  }
  return {
    id: repo.id,
    mongoId: hex('sha1', repo.id).slice(0, 24),
    gated: repo.gated === true,
    pipelineTag: repo.pipelineTag,
    refs,
    commits,
    history,
  };
}

function resolveRevision(repo: StoredRepo, revision: string): StoredCommit | undefined {
  let name = revision;
  if (name === 'HEAD') name = 'main';
  const ref = repo.refs.get(name) ?? repo.refs.get(name.replace(/^refs\/(heads|tags)\//, ''));
  if (ref !== undefined) return repo.commits.get(ref);
  return COMMIT_SHA.test(name) ? repo.commits.get(name) : undefined;
}

/**
 * The revision at the start of `segments` (it may span several segments when its slashes were not encoded,
 * as listFiles sends it) and the segments after it.
 */
function splitRevision(repo: StoredRepo, segments: string[], minRest: number): { commit: StoredCommit; rest: string[] } {
  for (let k = 1; k <= segments.length - minRest; k++) {
    const commit = resolveRevision(repo, segments.slice(0, k).join('/'));
    if (commit) return { commit, rest: segments.slice(k) };
  }
  if (segments.length <= minRest) throw new HubError(400, undefined, 'Invalid request: a revision and a path are required');
  const guess = segments[0] === 'refs' ? segments.slice(0, 3).join('/') : segments[0];
  throw revisionNotFound(guess);
}

/** The commit that last changed `path` (same blob as in `commit`), walking the linear history back. */
function lastCommitOf(repo: StoredRepo, commit: StoredCommit, path: string): StoredCommit {
  const oid = commit.files.get(path)?.oid;
  let last = commit;
  if (oid === undefined) {
    // a directory: the latest of the last commits of the files under it
    last = repo.history[0];
    for (const file of commit.files.keys()) {
      if (path === '' || file.startsWith(`${path}/`)) {
        const candidate = lastCommitOf(repo, commit, file);
        if (candidate.index > last.index) last = candidate;
      }
    }
    return last;
  }
  while (last.index > 0 && repo.history[last.index - 1].files.get(path)?.oid === oid) last = repo.history[last.index - 1];
  return last;
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // not a single byte range: ignored, as RFC 9110 allows
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function booleanParam(value: string | null): boolean {
  return value === 'true' || value === '1';
}

export async function startFakeHub(repos: FakeRepo[]): Promise<FakeHub> {
  const contentBySha256 = new Map<string, Uint8Array>();
  const stored = new Map<string, StoredRepo>();
  for (const repo of repos) {
    if (stored.has(repo.id)) throw new Error(`fake hub: repo ${repo.id} given twice`);
    stored.set(repo.id, storeRepo(repo, contentBySha256));
  }
  let requestCount = 0;

  const hub: FakeHub = {
    url: '',
    requests: [],
    faults: {},
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };

  const reportedSize = (path: string | undefined, real: number): number =>
    path !== undefined && hub.faults.misreportedSizes && Object.hasOwn(hub.faults.misreportedSizes, path)
      ? hub.faults.misreportedSizes[path]
      : real;

  function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Uint8Array): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    res.statusCode = status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', bytes.byteLength);
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown): void {
    send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
  }

  function sendError(req: IncomingMessage, res: ServerResponse, error: HubError): void {
    if (error.code) res.setHeader('X-Error-Code', error.code);
    res.setHeader('X-Error-Message', error.message);
    send(req, res, error.status, 'application/json; charset=utf-8', JSON.stringify({ error: error.message }));
  }

  /** Serves file bytes with Range support; `path` selects misreportedSizes. */
  function sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    content: Uint8Array,
    path: string,
    headers: Record<string, string>,
  ): void {
    const total = reportedSize(path, content.byteLength);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader('Accept-Ranges', 'bytes');
    const range = parseRange(req.headers.range, content.byteLength);
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${total}`);
      send(req, res, 416, 'text/plain; charset=utf-8', 'Requested Range Not Satisfiable');
      return;
    }
    const body = range ? content.subarray(range.start, range.end + 1) : content;
    res.statusCode = range ? 206 : 200;
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${total}`);
    if (req.method === 'HEAD') {
      res.setHeader('Content-Length', range ? body.byteLength : total);
      res.end();
      return;
    }
    res.setHeader('Content-Length', body.byteLength);
    const cut = hub.faults.cutNextDownloadAfter;
    if (cut !== undefined && body.byteLength > cut) {
      hub.faults.cutNextDownloadAfter = undefined;
      res.write(Buffer.from(body.subarray(0, cut)), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    const rate = hub.faults.trickleBytesPerSecond;
    if (rate !== undefined && body.byteLength > 65_536) {
      trickle(res, Buffer.from(body), rate);
      return;
    }
    res.end(Buffer.from(body));
  }

  /** Writes `body` in 10 slices a second, `rate` bytes a second in all. */
  function trickle(res: ServerResponse, body: Buffer, rate: number): void {
    const slice = Math.max(1, Math.round(rate / 10));
    let offset = 0;
    const next = () => {
      if (res.destroyed) return;
      const end = Math.min(body.byteLength, offset + slice);
      const chunk = body.subarray(offset, end);
      offset = end;
      if (offset >= body.byteLength) res.end(chunk);
      else res.write(chunk, () => setTimeout(next, 100));
    };
    next();
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      length += chunk.byteLength;
      if (length > 1_000_000) throw new HubError(413, undefined, 'Payload too large');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The repo named by the first segments (org/name, or a bare name) and the segments after it. */
  function findRepo(segments: string[], authorization: string | undefined): { repo: StoredRepo; rest: string[] } {
    let repo: StoredRepo | undefined;
    let rest: string[] = [];
    if (segments.length >= 2 && stored.has(`${segments[0]}/${segments[1]}`)) {
      repo = stored.get(`${segments[0]}/${segments[1]}`);
      rest = segments.slice(2);
    } else if (segments.length >= 1 && stored.has(segments[0])) {
      repo = stored.get(segments[0]);
      rest = segments.slice(1);
    }
    if (!repo) throw repoNotFound();
    if (repo.gated && authorization !== `Bearer ${VALID_TOKEN}`) {
      throw new HubError(
        401,
        'GatedRepo',
        `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
    }
    return { repo, rest };
  }

  function modelInfo(repo: StoredRepo, commit: StoredCommit, expand: string[]): Record<string, unknown> {
    const paths = [...commit.files.keys()].sort();
    const full: Record<string, unknown> = {
      _id: repo.mongoId,
      id: repo.id,
      modelId: repo.id,
      author: repo.id.split('/')[0],
      sha: commit.sha,
      lastModified: commit.date,
      createdAt: repo.history[0].date,
      private: false,
      gated: repo.gated ? 'manual' : false,
      disabled: false,
      downloads: 0,
      downloadsAllTime: 0,
      likes: 0,
      ...(repo.pipelineTag !== undefined && { pipeline_tag: repo.pipelineTag }),
      tags: [...(paths.some((p) => p.endsWith('.gguf')) ? ['gguf'] : []), ...(repo.pipelineTag ? [repo.pipelineTag] : [])],
      spaces: [],
      siblings: paths.map((rfilename) => ({ rfilename })),
    };
    if (expand.length === 0) return full;
    // As on the hub: with `expand`, only `_id`, `id` and the expanded properties are returned.
    const selected: Record<string, unknown> = { _id: full._id, id: full.id };
    for (const key of expand) if (Object.hasOwn(full, key)) selected[key] = full[key];
    return selected;
  }

  function treeEntry(repo: StoredRepo, commit: StoredCommit, path: string, expand: boolean): Record<string, unknown> {
    const file = commit.files.get(path);
    const entry: Record<string, unknown> = file
      ? {
          type: 'file',
          oid: file.oid,
          size: reportedSize(path, file.content.byteLength),
          path,
          ...(file.lfs && {
            lfs: { oid: file.lfs.sha256, size: reportedSize(path, file.content.byteLength), pointerSize: file.lfs.pointer.byteLength },
          }),
        }
      : { type: 'directory', oid: commit.trees.get(path), size: 0, path };
    if (expand) {
      const last = lastCommitOf(repo, commit, path);
      entry.lastCommit = { id: last.sha, title: last.title, date: last.date };
      if (file) entry.securityFileStatus = { status: 'safe' };
    }
    return entry;
  }

  function tree(req: IncomingMessage, res: ServerResponse, url: URL, repo: StoredRepo, segments: string[]): void {
    const { commit, rest } = splitRevision(repo, segments, 0);
    const dir = rest.join('/');
    if (dir !== '' && !commit.trees.has(dir)) {
      throw new HubError(404, 'EntryNotFound', `${dir} does not exist on "${segments.slice(0, segments.length - rest.length).join('/')}"`);
    }
    const recursive = booleanParam(url.searchParams.get('recursive'));
    const expand = booleanParam(url.searchParams.get('expand'));
    const under = (path: string) => (dir === '' ? true : path.startsWith(`${dir}/`));
    const direct = (path: string) => !path.slice(dir === '' ? 0 : dir.length + 1).includes('/');
    const paths = [...commit.trees.keys(), ...commit.files.keys()]
      .filter((p) => p !== '' && p !== dir && under(p) && (recursive || direct(p)))
      .sort();
    const offset = Math.max(0, Number.parseInt(url.searchParams.get('cursor') ?? '0', 10) || 0);
    const page = paths.slice(offset, offset + TREE_PAGE_SIZE);
    if (offset + TREE_PAGE_SIZE < paths.length) {
      const next = new URL(url.pathname + url.search, hub.url);
      next.searchParams.set('cursor', String(offset + TREE_PAGE_SIZE));
      res.setHeader('Link', `<${next.href}>; rel="next"`);
    }
    sendJson(
      req,
      res,
      page.map((p) => treeEntry(repo, commit, p, expand)),
    );
  }

  async function pathsInfo(req: IncomingMessage, res: ServerResponse, repo: StoredRepo, segments: string[]): Promise<void> {
    const commit = segments.length === 0 ? resolveRevision(repo, 'main')! : resolveRevision(repo, segments.join('/'));
    if (!commit) throw revisionNotFound(segments.join('/'));
    const text = await readBody(req);
    let paths: unknown;
    let expand: unknown;
    if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
      try {
        ({ paths, expand } = JSON.parse(text) as { paths?: unknown; expand?: unknown });
      } catch {
        throw new HubError(400, undefined, 'Invalid JSON body');
      }
    } else {
      const form = new URLSearchParams(text);
      paths = form.getAll('paths');
      expand = booleanParam(form.get('expand'));
    }
    if (typeof paths === 'string') paths = [paths];
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw new HubError(400, undefined, '"paths" must be an array of strings');
    }
    const seen = new Set<string>();
    const entries: Record<string, unknown>[] = [];
    for (const raw of paths as string[]) {
      const path = raw.replace(/^\/+|\/+$/g, '');
      if (seen.has(path) || (!commit.files.has(path) && (path === '' || !commit.trees.has(path)))) continue;
      seen.add(path);
      entries.push(treeEntry(repo, commit, path, expand === true || expand === 'true' || expand === 1));
    }
    sendJson(req, res, entries);
  }

  function resolveFile(req: IncomingMessage, res: ServerResponse, repo: StoredRepo, kind: string, segments: string[]): void {
    const { commit, rest } = splitRevision(repo, segments, 1);
    const path = rest.join('/');
    const file = commit.files.get(path);
    if (!file) throw new HubError(404, 'EntryNotFound', 'Entry not found');
    res.setHeader('X-Repo-Commit', commit.sha);
    if (kind === 'raw' || !file.lfs) {
      const content = file.lfs ? file.lfs.pointer : file.content;
      const type =
        file.lfs || /\.(md|txt|jinja|py|yaml|yml)$/.test(path)
          ? 'text/plain; charset=utf-8'
          : path.endsWith('.json')
            ? 'application/json; charset=utf-8'
            : 'application/octet-stream';
      sendContent(req, res, content, path, { ETag: `"${file.oid}"`, 'Content-Type': type });
      return;
    }
    const location = `${hub.url}/cdn/${file.lfs.sha256}?path=${encodeURIComponent(path)}`;
    res.setHeader('X-Linked-Size', String(reportedSize(path, file.content.byteLength)));
    res.setHeader('X-Linked-ETag', `"${file.lfs.sha256}"`);
    res.setHeader('Location', location);
    send(req, res, 302, 'text/plain; charset=utf-8', `Found. Redirecting to ${location}`);
  }

  function cdn(req: IncomingMessage, res: ServerResponse, url: URL, segments: string[]): void {
    const content = segments.length === 1 ? contentBySha256.get(segments[0]) : undefined;
    if (!content) {
      send(req, res, 404, 'application/xml', '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    const path = url.searchParams.get('path') ?? '';
    const name = path.slice(path.lastIndexOf('/') + 1);
    sendContent(req, res, content, path, {
      // like the S3-backed CDN: an ETag of its own (not the sha256), no X-Repo-Commit
      ETag: `"${hex('md5', content)}"`,
      'Content-Type': 'application/octet-stream',
      ...(name && {
        'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}; filename="${name.replace(/[^\x20-\x7e]|"/g, '_')}";`,
      }),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', hub.url);
    let segments: string[];
    try {
      segments = url.pathname
        .split('/')
        .filter((s) => s !== '')
        .map(decodeURIComponent);
    } catch {
      throw new HubError(400, undefined, 'Malformed URL');
    }
    const readOnly = method === 'GET' || method === 'HEAD';
    const authorization = req.headers.authorization;

    if (segments[0] === 'cdn') {
      if (!readOnly) throw new HubError(405, undefined, 'Method not allowed');
      cdn(req, res, url, segments.slice(1));
      return;
    }
    if (segments[0] === 'api') {
      if (segments[1] !== 'models') throw repoNotFound(); // datasets, spaces...: none here
      const { repo, rest } = findRepo(segments.slice(2), authorization);
      const action = rest[0];
      if (action === 'paths-info') {
        if (method !== 'POST') throw new HubError(405, undefined, 'Method not allowed');
        await pathsInfo(req, res, repo, rest.slice(1));
        return;
      }
      if (!readOnly) throw new HubError(405, undefined, 'Method not allowed');
      if (action === undefined || action === 'revision') {
        const revision = action === undefined ? 'main' : rest.slice(1).join('/');
        const commit = resolveRevision(repo, revision);
        if (!commit) throw revisionNotFound(revision);
        const expand = [...url.searchParams.getAll('expand'), ...url.searchParams.getAll('expand[]')];
        sendJson(req, res, modelInfo(repo, commit, expand));
        return;
      }
      if (action === 'tree') {
        tree(req, res, url, repo, rest.slice(1));
        return;
      }
      throw new HubError(404, undefined, 'Not Found');
    }
    if (segments[0] === 'datasets' || segments[0] === 'spaces') throw repoNotFound();
    const { repo, rest } = findRepo(segments, authorization);
    if ((rest[0] === 'resolve' || rest[0] === 'raw') && readOnly) {
      resolveFile(req, res, repo, rest[0], rest.slice(1));
      return;
    }
    throw new HubError(404, undefined, 'Not Found');
  }

  const server = createServer((req, res) => {
    hub.requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ...(req.headers.range !== undefined && { range: req.headers.range }),
      ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
    });
    res.setHeader('X-Request-Id', `fake-hub-${++requestCount}`);
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(req, res, error instanceof HubError ? error : new HubError(500, undefined, String(error)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}
