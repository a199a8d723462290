// One file of a hub repository into the cache: resumed from a previous partial download, checked
// against the size (and sha256) the hub lists, then linked into the commit's snapshot.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileDownloadInfo } from '@huggingface/hub';
import type { RepoCache } from './cache-layout.js';

export interface RemoteFile {
  path: string;
  size: number;
  /** Blob name in the cache: the sha256 of LFS files, the git object id of the others. */
  etag: string;
  sha256?: string;
}

export interface DownloadContext {
  repoId: string;
  commit: string;
  cache: RepoCache;
  hubUrl: string;
  accessToken?: string;
  fetch: typeof fetch;
  /** Bytes of this file on disk so far (including resumed ones) and its size. */
  onProgress?: (done: number, total: number) => void;
}

class IntegrityError extends Error {}

async function hashOf(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** The file's bytes from `offset` (or from 0 when the server does not honour the range). */
async function openBody(file: RemoteFile, context: DownloadContext, offset: number): Promise<{ stream: Readable; from: number }> {
  const info = await fileDownloadInfo({
    repo: context.repoId,
    path: file.path,
    revision: context.commit,
    hubUrl: context.hubUrl,
    accessToken: context.accessToken,
    fetch: context.fetch,
  });
  if (!info) throw new Error(`${context.repoId}: ${file.path} is not in the repository at ${context.commit}`);
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  if (context.accessToken) headers.Authorization = `Bearer ${context.accessToken}`;
  const response = await context.fetch(info.url, { headers });
  if (!response.ok || !response.body) throw new Error(`${context.repoId}: downloading ${file.path} failed with HTTP ${response.status}`);
  const from = response.status === 206 ? offset : 0;
  return { stream: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), from };
}

/** Returns the snapshot path of the file, downloading what the cache lacks. */
export async function downloadToCache(file: RemoteFile, context: DownloadContext): Promise<string> {
  const { cache } = context;
  const blob = cache.blobPath(file.etag);
  if (cache.hasBlob(file.etag, file.size)) return cache.link(context.commit, file.path, file.etag);

  const partial = `${blob}.incomplete`;
  mkdirSync(dirname(blob), { recursive: true });
  let offset = existsSync(partial) ? statSync(partial).size : 0;
  if (offset > file.size) {
    rmSync(partial);
    offset = 0;
  }
  let hash = file.sha256 ? createHash('sha256') : undefined;
  if (hash && offset > 0) await hashOf(partial, hash);

  let done = offset;
  context.onProgress?.(done, file.size);
  if (offset < file.size) {
    const body = await openBody(file, context, offset);
    if (body.from === 0 && offset > 0) {
      // The server ignored the range: start over.
      offset = 0;
      done = 0;
      hash = file.sha256 ? createHash('sha256') : undefined;
    }
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        done += chunk.length;
        hash?.update(chunk);
        context.onProgress?.(done, file.size);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body.stream, count, createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' }));
    } catch (error) {
      throw new Error(
        `${context.repoId}: the download of ${file.path} stopped after ${done} of ${file.size} bytes (${(error as Error).message}); start again to resume it`,
        { cause: error },
      );
    }
  }

  const size = statSync(partial).size;
  if (size !== file.size) {
    rmSync(partial);
    throw new IntegrityError(
      `${context.repoId}: ${file.path} has ${size} bytes where the hub lists ${file.size}; the partial file was removed`,
    );
  }
  const digest = hash?.digest('hex');
  if (file.sha256 && digest !== file.sha256) {
    rmSync(partial);
    throw new IntegrityError(
      `${context.repoId}: ${file.path} has sha256 ${digest} where the hub lists ${file.sha256}; the file was removed`,
    );
  }
  renameSync(partial, blob);
  return cache.link(context.commit, file.path, file.etag);
}
