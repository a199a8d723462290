// Transparent huge pages for the memory llama.cpp allocates (Linux).
//
// A decode streams every weight once per step. In 4 KiB pages that is tens of thousands of TLB
// entries per token, and the CPU's prefetchers stop at every page boundary; in 2 MiB pages the
// stream runs on. Where transparent_hugepage is set to madvise (a common default), only memory that
// asks for huge pages gets them, and llama.cpp does not ask, so this module does it for the
// buffers a model load adds to the address space, before the weights are read into them.
// Elsewhere it does nothing.
import { readFileSync } from 'node:fs';
import koffi from 'koffi';

const MADV_HUGEPAGE = 14;
const HUGE_PAGE = 2n * 1024n * 1024n;
/** glibc's malloc heaps of threads other than the main one: 64 MiB-aligned, at most 64 MiB. */
const THREAD_HEAP = 64n * 1024n * 1024n;
const THP_SETTING = '/sys/kernel/mm/transparent_hugepage/enabled';

type Madvise = (address: bigint, length: bigint, advice: number) => number;

let madvise: Madvise | null | undefined;

function bindMadvise(): Madvise | null {
  if (madvise !== undefined) return madvise;
  madvise = null;
  if (process.platform !== 'linux') return null;
  try {
    if (readFileSync(THP_SETTING, 'utf8').includes('[never]')) return null;
    const libc = koffi.load('libc.so.6');
    madvise = libc.func('int madvise(uintptr_t address, size_t length, int advice)') as Madvise;
  } catch {
    madvise = null;
  }
  return madvise;
}

interface Range {
  start: bigint;
  end: bigint;
}

/**
 * Private read-write mappings backed by no file, where malloc puts each large buffer, except a
 * thread's malloc heap, which holds many small allocations.
 */
function bufferMappings(): Map<string, Range> {
  const mappings = new Map<string, Range>();
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const [range, perms, , , inode, path] = line.split(/\s+/);
    if (perms !== 'rw-p' || inode !== '0' || path) continue;
    const [start, end] = range.split('-').map((hex) => BigInt(`0x${hex}`));
    if (start % THREAD_HEAP === 0n && end - start <= THREAD_HEAP) continue;
    mappings.set(range, { start, end });
  }
  return mappings;
}

/**
 * Notes the address space now; `advise()` then asks for huge pages for the mappings that appeared
 * since (each rounded inwards to whole 2 MiB pages; smaller ones are skipped).
 */
export class NewMappings {
  /** The mappings at the snapshot, by their address range. */
  private readonly before: ReadonlySet<string>;

  private constructor(private readonly madvise: Madvise | null) {
    this.before = new Set(madvise ? bufferMappings().keys() : []);
  }

  static snapshot(): NewMappings {
    return new NewMappings(bindMadvise());
  }

  /** Memory not yet written gets huge pages as it is first written. Returns the bytes advised. */
  advise(): number {
    if (!this.madvise) return 0;
    let bytes = 0n;
    for (const [key, { start, end }] of bufferMappings()) {
      if (this.before.has(key)) continue;
      const first = ((start + HUGE_PAGE - 1n) / HUGE_PAGE) * HUGE_PAGE;
      const last = (end / HUGE_PAGE) * HUGE_PAGE;
      if (last <= first) continue;
      if (this.madvise(first, last - first, MADV_HUGEPAGE) !== 0) continue;
      bytes += last - first;
    }
    return Number(bytes);
  }
}
