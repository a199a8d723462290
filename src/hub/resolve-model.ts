// --model-id -> a GGUF file on disk: a local file, a local directory, or a hub repository (from
// the cache when offline or already fetched, else downloaded into huggingface_hub's cache). On
// request, the vision projector (mmproj GGUF) beside the model comes with it, fetched the same way.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { listFiles, modelInfo, HubApiError } from '@huggingface/hub';
import { RepoCache } from './cache-layout.js';
import { chooseGguf, chooseProjector, type GgufChoice } from './choose-gguf.js';
import { downloadToCache, type RemoteFile } from './download.js';
import type { HubEnvironment } from './environment.js';

export interface ResolveOptions {
  revision: string;
  ggufFile?: string;
  /** Also find the projector beside the model (a directory's, a repository's or the cached snapshot's). */
  projector?: boolean;
  hub: HubEnvironment;
  log: (message: string) => void;
  warn: (message: string) => void;
  /** Progress of a file download: bytes done and total of that file. */
  onDownload?: (file: string, done: number, total: number) => void;
  onDownloadEnd?: (file: string) => void;
  /** Timeout of each hub API call, in milliseconds. */
  requestTimeoutMs?: number;
}

export interface ResolvedModel {
  /** The GGUF to load (the first part of a split model). */
  path: string;
  modelId: string;
  /** The commit the files come from (hub only). */
  sha: string | null;
  pipelineTag: string | null;
  source: 'file' | 'directory' | 'hub' | 'cache';
  /** The projector found beside the model (when asked for and there is one): its local path. */
  projectorPath?: string;
}

/** A failure the user can act on: what went wrong and what to do, without a stack trace. */
export class ModelResolutionError extends Error {}

/** What a user without the hub can do instead. */
const LOCAL_WAY_OUT = 'To serve a model file on this machine instead, give its path: --model-id path/to/model.gguf';

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

function localFiles(dir: string): { path: string; size: number }[] {
  const files: { path: string; size: number }[] = [];
  const walk = (current: string, depth: number) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory() && depth < 2) walk(full, depth + 1);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        try {
          files.push({ path: relative(dir, full).split('\\').join('/'), size: statSync(full).size });
        } catch {
          // a dangling link
        }
      }
    }
  };
  walk(dir, 0);
  return files;
}

function choose(files: { path: string; size: number }[], wanted: string | undefined, where: string): GgufChoice {
  try {
    return chooseGguf(files, wanted);
  } catch (error) {
    throw new ModelResolutionError(`${where}: ${(error as Error).message}`);
  }
}

export async function resolveModel(modelId: string, options: ResolveOptions): Promise<ResolvedModel> {
  if (existsSync(modelId)) {
    if (statSync(modelId).isFile()) return { path: modelId, modelId, sha: null, pipelineTag: null, source: 'file' };
    const files = localFiles(modelId);
    const choice = choose(files, options.ggufFile, modelId);
    const projector = options.projector ? chooseProjector(files, choice.primary) : undefined;
    return {
      path: join(modelId, choice.primary),
      modelId,
      sha: null,
      pipelineTag: null,
      source: 'directory',
      ...(projector ? { projectorPath: join(modelId, projector) } : {}),
    };
  }
  if (/\.gguf$/i.test(modelId) || !REPO_ID.test(modelId)) {
    throw new ModelResolutionError(`model file not found: ${modelId} (and it is not a hub repository id such as org/name)`);
  }
  const cache = new RepoCache(options.hub.cacheDir, modelId);
  if (options.hub.offline) return fromCache(modelId, cache, options, 'HF_HUB_OFFLINE is set');
  try {
    return await fromHub(modelId, cache, options);
  } catch (error) {
    if (error instanceof UnreachableHub) {
      const cached = tryCache(modelId, cache, options);
      if (cached) {
        options.warn(
          `${options.hub.endpoint} is unreachable (${error.message}); using the cached ${modelId}@${options.revision} (${cached.sha})`,
        );
        return cached;
      }
      throw new ModelResolutionError(
        `cannot reach ${options.hub.endpoint} to fetch ${modelId} (${error.message}), and it is not in the cache ${options.hub.cacheDir}. ${LOCAL_WAY_OUT}; or retry with network access (HF_ENDPOINT names another hub or mirror).`,
      );
    }
    throw error;
  }
}

function tryCache(modelId: string, cache: RepoCache, options: ResolveOptions): ResolvedModel | undefined {
  try {
    return fromCache(modelId, cache, options, '');
  } catch {
    return undefined;
  }
}

function fromCache(modelId: string, cache: RepoCache, options: ResolveOptions, why: string): ResolvedModel {
  const commit = cache.commitOf(options.revision);
  const missing = `${modelId}@${options.revision} is not in the cache ${options.hub.cacheDir}`;
  if (!commit)
    throw new ModelResolutionError(
      `${why}: ${missing}. ${LOCAL_WAY_OUT}; or run once with network access (and HF_HUB_OFFLINE unset) to download it.`,
    );
  const files = cache.snapshotFiles(commit);
  const choice = choose(files, options.ggufFile, `${modelId}@${commit} in the cache`);
  const present = new Set(files.map((f) => f.path));
  const absent = choice.files.filter((f) => !present.has(f));
  if (absent.length > 0) throw new ModelResolutionError(`${why}: ${missing} completely (missing ${absent.join(', ')}).`);
  // Only the files fetched before are in the snapshot: a projector never fetched is not known here.
  const projector = options.projector ? chooseProjector(files, choice.primary) : undefined;
  return {
    path: cache.snapshotPath(commit, choice.primary),
    modelId,
    sha: commit,
    pipelineTag: null,
    source: 'cache',
    ...(projector ? { projectorPath: cache.snapshotPath(commit, projector) } : {}),
  };
}

class UnreachableHub extends Error {}

function hubFetch(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new UnreachableHub(cause?.code ?? (error as Error).message);
    }
  };
}

function explain(error: unknown, modelId: string, options: ResolveOptions): never {
  if (error instanceof UnreachableHub || error instanceof ModelResolutionError) throw error;
  if (error instanceof HubApiError) {
    const tokenHint = 'set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) to a token of an account that has access';
    if (error.statusCode === 401 || error.statusCode === 403) {
      const tokenState = options.hub.token ? 'the token given has no access to it' : 'no token is set';
      throw new ModelResolutionError(
        `access to ${modelId} was refused (${error.statusCode}: ${error.message}): the repository is gated or private (or does not exist) and ${tokenState}. Accept its conditions on ${options.hub.endpoint}/${modelId} and ${tokenHint}.`,
      );
    }
    if (error.statusCode === 404) {
      throw new ModelResolutionError(
        `${modelId}@${options.revision} was not found on ${options.hub.endpoint} (${error.message}). Check the repository id and --revision; for a private repository ${tokenHint}.`,
      );
    }
    throw new ModelResolutionError(`the hub answered ${error.statusCode} for ${modelId}: ${error.message}`);
  }
  throw error;
}

async function fromHub(modelId: string, cache: RepoCache, options: ResolveOptions): Promise<ResolvedModel> {
  const { hub } = options;
  const fetchWithTimeout = hubFetch(options.requestTimeoutMs ?? 30_000);
  const credentials = { hubUrl: hub.endpoint, accessToken: hub.token, fetch: fetchWithTimeout };
  let commit: string;
  let pipelineTag: string | null;
  const remote: RemoteFile[] = [];
  try {
    const info = await modelInfo({ ...credentials, name: modelId, revision: options.revision, additionalFields: ['sha'] });
    commit = info.sha;
    pipelineTag = info.task ?? null;
    for await (const entry of listFiles({ ...credentials, repo: { type: 'model', name: modelId }, revision: commit, recursive: true })) {
      const etag = entry.lfs?.oid ?? entry.oid;
      if (entry.type !== 'file' || !etag) continue;
      remote.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, etag, sha256: entry.lfs?.oid });
    }
  } catch (error) {
    explain(error, modelId, options);
  }
  const choice = choose(remote, options.ggufFile, `${modelId}@${options.revision}`);
  const projector = options.projector ? chooseProjector(remote, choice.primary) : undefined;
  const wanted = projector ? [...choice.files, projector] : choice.files;
  const byPath = new Map(remote.map((f) => [f.path, f]));
  const missing = wanted.filter((path) => {
    const file = byPath.get(path)!;
    return !cache.hasBlob(file.etag, file.size);
  });
  const downloaded = missing.length > 0;
  if (downloaded) options.log(`Downloading ${modelId}@${commit.slice(0, 10)} ${missing.join(', ')} into ${hub.cacheDir}`);
  for (const path of wanted) {
    const file = byPath.get(path)!;
    try {
      await downloadToCache(file, {
        repoId: modelId,
        commit,
        cache,
        ...credentials,
        onProgress: (done, total) => options.onDownload?.(path, done, total),
      });
    } catch (error) {
      explain(error, modelId, options);
    } finally {
      options.onDownloadEnd?.(path);
    }
  }
  cache.writeRef(options.revision, commit);
  return {
    path: cache.snapshotPath(commit, choice.primary),
    modelId,
    sha: commit,
    pipelineTag,
    source: downloaded ? 'hub' : 'cache',
    ...(projector ? { projectorPath: cache.snapshotPath(commit, projector) } : {}),
  };
}
