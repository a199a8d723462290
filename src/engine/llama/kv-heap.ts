// Keeps the KV cache's memory resident across rebuilds of the context (Linux, glibc).
//
// glibc serves a large allocation with a fresh mapping and unmaps it when freed, so every new KV
// cache is first-touched page by page while llama.cpp zeroes it: about 1 s per 16,000 cells of a
// 135M model here. Allocated from the heap instead (mmap off while the context is created) and
// never trimmed, the next cache reuses the same resident pages: 20-70 ms.
import koffi from 'koffi';

const M_TRIM_THRESHOLD = -1;
const M_MMAP_MAX = -4;
/** glibc's default for M_MMAP_MAX. */
const DEFAULT_MMAP_MAX = 65536;

type Mallopt = (param: number, value: number) => number;

let mallopt: Mallopt | null | undefined;

function bindMallopt(): Mallopt | null {
  if (mallopt !== undefined) return mallopt;
  mallopt = null;
  if (process.platform !== 'linux') return null;
  try {
    const libc = koffi.load('libc.so.6');
    const fn = libc.func('int mallopt(int param, int value)') as Mallopt;
    // Freed heap memory stays with the process: the pool's pages are reused by the next cache.
    if (fn(M_TRIM_THRESHOLD, 2 ** 31 - 1) === 1) mallopt = fn;
  } catch {
    mallopt = null;
  }
  return mallopt;
}

/** Runs `create` with large allocations taken from the heap (elsewhere: runs it as is). */
export function allocatingFromHeap<T>(create: () => T): T {
  const fn = bindMallopt();
  if (!fn) return create();
  fn(M_MMAP_MAX, 0);
  try {
    return create();
  } finally {
    fn(M_MMAP_MAX, DEFAULT_MMAP_MAX);
  }
}
