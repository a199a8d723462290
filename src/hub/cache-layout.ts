// huggingface_hub's cache layout: <cache>/models--org--name/{blobs/<etag>, snapshots/<commit>/<path>
// (a relative symlink to the blob), refs/<revision> (the commit a branch or tag resolved to)}.
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';

const COMMIT = /^[0-9a-f]{40}$/;

export class RepoCache {
  readonly root: string;

  constructor(
    cacheDir: string,
    readonly repoId: string,
  ) {
    this.root = join(cacheDir, `models--${repoId.split('/').join('--')}`);
  }

  blobPath(etag: string): string {
    return join(this.root, 'blobs', etag);
  }

  /** Whether the blob is complete: present with the size the hub lists. */
  hasBlob(etag: string, size: number): boolean {
    const blob = this.blobPath(etag);
    return existsSync(blob) && statSync(blob).size === size;
  }

  snapshotDir(commit: string): string {
    return join(this.root, 'snapshots', commit);
  }

  snapshotPath(commit: string, path: string): string {
    return join(this.snapshotDir(commit), path);
  }

  /** The commit `revision` stands for: itself when it is a commit, else what refs/ recorded. */
  commitOf(revision: string): string | undefined {
    if (COMMIT.test(revision)) return revision;
    try {
      const commit = readFileSync(join(this.root, 'refs', revision), 'utf8').trim();
      return COMMIT.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const path = join(this.root, 'refs', revision);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, commit);
  }

  /** Points snapshots/<commit>/<path> at the blob; a copy where symlinks are not allowed. */
  link(commit: string, path: string, etag: string): string {
    const pointer = this.snapshotPath(commit, path);
    const blob = this.blobPath(etag);
    mkdirSync(dirname(pointer), { recursive: true });
    if (existsSync(pointer) || isDanglingLink(pointer)) rmSync(pointer, { force: true });
    try {
      symlinkSync(relative(dirname(pointer), blob), pointer);
    } catch {
      copyFileSync(blob, pointer);
    }
    return pointer;
  }

  /** Files of a snapshot (paths relative to it) with their sizes; symlinks followed. */
  snapshotFiles(commit: string): { path: string; size: number }[] {
    const root = this.snapshotDir(commit);
    if (!existsSync(root)) return [];
    const files: { path: string; size: number }[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = join(dir, entry);
        let stats;
        try {
          stats = statSync(full);
        } catch {
          continue; // a link whose blob is gone
        }
        if (stats.isDirectory()) walk(full);
        else files.push({ path: relative(root, full).split('\\').join('/'), size: stats.size });
      }
    };
    walk(root);
    return files;
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
