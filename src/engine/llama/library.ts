// Finds the prebuilt llama.cpp shared libraries shipped by the @node-llama-cpp/<platform> npm packages.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

export interface LlamaBinaries {
  packageName: string;
  dir: string;
  llamaLib: string;
  ggmlLib: string;
  ggmlBaseLib: string;
}

const PACKAGE_KEY = 'tgi-node:llama-package';

/**
 * Names the package to load (TGI_NODE_LLAMA_PACKAGE, read by the launcher; undefined: the best
 * installed) in this thread and the threads it starts afterwards, so that every thread loads the
 * same build.
 */
export function chooseLlamaPackage(name: string | undefined): void {
  setEnvironmentData(PACKAGE_KEY, name);
}

/** Packages to try, best first: the one chosen, else GPU builds only when the user installed them. */
function candidatePackages(
  platform = process.platform,
  arch = process.arch,
  chosen = getEnvironmentData(PACKAGE_KEY) as string | undefined,
): string[] {
  if (chosen) return [chosen];
  if (platform === 'linux') return [`linux-${arch}-cuda`, `linux-${arch}-vulkan`, `linux-${arch}`];
  if (platform === 'darwin') return arch === 'arm64' ? ['mac-arm64-metal'] : ['mac-x64'];
  if (platform === 'win32') return [`win-${arch}-cuda`, `win-${arch}-vulkan`, `win-${arch}`];
  return [];
}

const require = createRequire(import.meta.url);

function findLibrary(dir: string, stem: string): string | undefined {
  const pattern = new RegExp(`^(lib)?${stem}(\\.v[0-9.]+)?\\.(so|dylib|dll)$`);
  return readdirSync(dir).find((f) => pattern.test(f));
}

export function locateLlamaBinaries(): LlamaBinaries {
  const tried: string[] = [];
  for (const name of candidatePackages()) {
    const packageName = name.startsWith('@') ? name : `@node-llama-cpp/${name}`;
    tried.push(packageName);
    let root: string;
    try {
      // The package exports only its entry module (dist/index.js); the binaries sit beside dist/.
      root = dirname(dirname(require.resolve(packageName)));
    } catch {
      continue;
    }
    const binsRoot = join(root, 'bins');
    if (!existsSync(binsRoot)) continue;
    for (const sub of readdirSync(binsRoot)) {
      const dir = join(binsRoot, sub);
      const llama = findLibrary(dir, 'llama');
      const ggml = findLibrary(dir, 'ggml');
      const ggmlBase = findLibrary(dir, 'ggml-base');
      if (llama && ggml && ggmlBase)
        return { packageName, dir, llamaLib: join(dir, llama), ggmlLib: join(dir, ggml), ggmlBaseLib: join(dir, ggmlBase) };
    }
  }
  throw new Error(
    `No prebuilt llama.cpp binaries found for ${process.platform}-${process.arch} (looked for ${tried.join(', ')}). ` +
      'Run `npm ci` on this platform, or install the matching @node-llama-cpp package.',
  );
}
