// Which GGUF of a repository or directory to serve: the one named, else the first quantization
// of the preference list, else the smallest. Split GGUFs (-00001-of-0000N.gguf) count as one.
// And which vision projector (mmproj GGUF) goes with it, when the repository or directory has some.

/** The quantizations a user most likely wants, best first. */
export const QUANTIZATION_PREFERENCE = ['Q4_K_M', 'Q4_0', 'Q5_K_M', 'Q8_0', 'F16'];

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;

export interface GgufChoice {
  /** Every file of the model, the first split part first. */
  files: string[];
  /** The file to load (llama.cpp finds the other parts beside it). */
  primary: string;
}

interface Candidate {
  key: string;
  files: string[];
  size: number;
}

/** The precisions a projector is most faithful in, best first (projectors are small: F16 costs little). */
export const PROJECTOR_PREFERENCE = ['F16', 'BF16', 'F32', 'Q8_0'];

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const folderOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));

/** A vision projector: llama.cpp's `mmproj` GGUF (mmproj-F16.gguf, model-mmproj-q8_0.gguf...). */
const isProjectorFile = (path: string) => /\.gguf$/i.test(path) && /(^|[-_.])mmproj([-_.]|$)/i.test(baseName(path));

/** Vision projectors and imatrix files are GGUFs but not models. */
const isModelFile = (path: string) => /\.gguf$/i.test(path) && !isProjectorFile(path) && !/(^|[-_.])imatrix([-_.]|$)/i.test(baseName(path));

function candidates(files: { path: string; size: number }[]): Candidate[] {
  const groups = new Map<string, Candidate>();
  for (const file of files) {
    if (!isModelFile(file.path)) continue;
    const split = SPLIT.exec(file.path);
    const key = split ? file.path.slice(0, split.index) : file.path;
    const group = groups.get(key) ?? { key, files: [], size: 0 };
    group.files.push(file.path);
    group.size += file.size;
    groups.set(key, group);
  }
  for (const group of groups.values()) group.files.sort();
  return [...groups.values()];
}

function mentions(path: string, quantization: string): boolean {
  // Q4_0 must not match Q4_0_4_4: the name ends at a non-alphanumeric that does not start another part.
  return new RegExp(`(^|[^a-z0-9])${quantization}(?![a-z0-9]|_[a-z0-9])`, 'i').test(baseName(path));
}

export function chooseGguf(files: { path: string; size: number }[], wanted?: string): GgufChoice {
  const all = candidates(files);
  if (all.length === 0) throw new Error('no GGUF model file found');
  let choice: Candidate | undefined;
  if (wanted) {
    choice = all.find((c) => c.key === wanted || baseName(c.key) === wanted || c.files.some((f) => f === wanted || baseName(f) === wanted));
    if (!choice) throw new Error(`no GGUF file named ${wanted}; available: ${all.map((c) => baseName(c.files[0])).join(', ')}`);
  } else {
    for (const quantization of QUANTIZATION_PREFERENCE) {
      choice = all.find((c) => mentions(c.files[0], quantization));
      if (choice) break;
    }
    choice ??= all.reduce((a, b) => (b.size < a.size ? b : a));
  }
  return { files: choice.files, primary: choice.files[0] };
}

/**
 * The projector to serve with the model at `modelPath` (a path among `files`), as llama-server's
 * -hf picks one: among the projectors of the model's own folder if it has any, else among all,
 * the first precision of PROJECTOR_PREFERENCE found in a file name, else the smallest. None when
 * there is no projector.
 */
export function chooseProjector(files: { path: string; size: number }[], modelPath: string): string | undefined {
  const all = files.filter((file) => isProjectorFile(file.path)).sort((a, b) => a.path.localeCompare(b.path));
  const beside = all.filter((file) => folderOf(file.path) === folderOf(modelPath));
  const pool = beside.length > 0 ? beside : all;
  if (pool.length === 0) return undefined;
  for (const precision of PROJECTOR_PREFERENCE) {
    const found = pool.find((file) => mentions(file.path, precision));
    if (found) return found.path;
  }
  return pool.reduce((a, b) => (b.size < a.size ? b : a)).path;
}
