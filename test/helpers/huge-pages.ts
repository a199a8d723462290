// Whether this machine has transparent huge pages, and how much memory a process has in them.
import { existsSync, readFileSync } from 'node:fs';

const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

export const MiB = 1024 * 1024;

export const transparentHugePagesAvailable =
  process.platform === 'linux' && existsSync(THP_SETTING) && !readFileSync(THP_SETTING, 'utf8').includes('[never]');

/** Anonymous memory of a process backed by huge pages, in bytes. */
export function anonHugePagesBytes(pid: number | 'self' = 'self'): number {
  return Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
}
