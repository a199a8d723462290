// The vision projector (llama.cpp's mmproj GGUF) the model is served with: --mmproj, else the one
// found beside a hub or directory model (--no-mmproj: none), its header checked before anything loads.
import { statSync } from 'node:fs';
import type { ResolvedModel } from '../hub/resolve-model.js';
import { projectorWidth } from '../vision/encoder.js';
import { ConfigError } from './config-error.js';
import type { Options } from './options.js';

type ProjectorFlags = Pick<Options, 'mmproj' | 'noMmproj'>;

/**
 * Whether the model's resolution looks for a projector beside it: not when --mmproj names one or
 * --no-mmproj refuses any. Both given is a ConfigError, before anything is downloaded.
 */
export function findsProjector(flags: ProjectorFlags): boolean {
  if (flags.mmproj !== undefined && flags.noMmproj)
    throw new ConfigError(
      `--mmproj (MMPROJ) ${flags.mmproj} and --no-mmproj (NO_MMPROJ) are both given: --mmproj names the projector to use, --no-mmproj serves the model without one; give one of them`,
    );
  return flags.mmproj === undefined && !flags.noMmproj;
}

interface ProjectorFile {
  path: string;
  bytes: number;
  /** clip.projector_type: mlp, idefics3, gemma3, qwen2.5vl_merger... */
  projectorType: string;
  /** Width of the rows it writes (the text model's embedding width). */
  width: number;
}

export interface ProjectorChoice {
  /** Absent: the model is served without one. */
  projector?: ProjectorFile;
  /** What the startup log says of it. */
  description: string;
}

const where: Record<ResolvedModel['source'], string> = {
  file: 'the model is a single .gguf file; --mmproj names a projector',
  directory: 'no mmproj*.gguf file in the directory of --model-id',
  hub: 'no mmproj*.gguf file in the repository',
  cache: 'no mmproj*.gguf file in the cached snapshot of the repository',
};

function formatSize(bytes: number): string {
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

async function check(path: string, origin: string, remedy: string): Promise<ProjectorFile> {
  let bytes: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new ConfigError(`${origin}: ${path} is not a file`);
    bytes = stats.size;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${origin}: no such file: ${path}`);
  }
  try {
    return { path, bytes, ...(await projectorWidth(path)) };
  } catch (error) {
    throw new ConfigError(`${origin}: ${(error as Error).message}${remedy}`);
  }
}

/**
 * The projector to serve `model` with, given the flags (after `findsProjector` let the
 * resolution look for one): the file checked to be a clip GGUF whose type the encoder supports.
 */
export async function locateProjector(flags: ProjectorFlags, model: ResolvedModel): Promise<ProjectorChoice> {
  let projector: ProjectorFile;
  if (flags.mmproj !== undefined) projector = await check(flags.mmproj, '--mmproj (MMPROJ)', '');
  else if (model.projectorPath)
    projector = await check(
      model.projectorPath,
      `the projector found beside the model`,
      '; give --mmproj another one, or --no-mmproj to serve the model without one',
    );
  else {
    const why = flags.noMmproj ? '--no-mmproj' : where[model.source];
    return { description: `Projector: none (${why}): the model takes text only` };
  }
  const origin = flags.mmproj !== undefined ? '--mmproj' : 'found beside the model';
  return {
    projector,
    description: `Projector: ${projector.path} (${formatSize(projector.bytes)}, ${projector.projectorType}, rows of ${projector.width}), ${origin}`,
  };
}
