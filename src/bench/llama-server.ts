// llama.cpp's own server as the reference: built once from the llama.cpp source that ships inside
// the node-llama-cpp npm package (same release as our prebuilt binaries), cached outside the
// project, never in CI.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { locateLlamaBinaries } from '../engine/llama/library.js';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';

export function cacheDir(): string {
  const base = process.env.TGI_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tgi-node');
  mkdirSync(base, { recursive: true });
  return base;
}

/** The version of the installed llama.cpp binary package, which names the matching source release. */
function llamaPackageVersion(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve(
    `@node-llama-cpp/${process.platform === 'darwin' ? (process.arch === 'arm64' ? 'mac-arm64-metal' : 'mac-x64') : `${process.platform === 'win32' ? 'win' : 'linux'}-${process.arch}`}`,
  );
  return (JSON.parse(readFileSync(join(dirname(dirname(entry)), 'package.json'), 'utf8')) as { version: string }).version;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with status ${result.status}`);
}

/**
 * The CPU backends are loadable libraries (one per instruction-set level). llama-server gets the
 * very ones tgi-node loads, from our prebuilt package, so both run identical kernels (a local
 * compiler can also produce variants that do not run here).
 */
function shareCpuBackends(binDir: string): void {
  const ours = locateLlamaBinaries().dir;
  for (const file of readdirSync(ours))
    if (/^libggml-cpu-.*\.(so|dylib|dll)$/.test(file)) copyFileSync(join(ours, file), join(binDir, file));
}

function builtBinary(): string {
  return join(cacheDir(), `llama-server-${llamaPackageVersion()}`, 'src', 'build-dl', 'bin', 'llama-server');
}

/** The cached llama-server binary (with our CPU backends beside it), or undefined when none was built yet. */
export function findLlamaServer(): string | undefined {
  const binary = builtBinary();
  if (!existsSync(binary)) return undefined;
  shareCpuBackends(dirname(binary));
  return binary;
}

/** Whether a llama-server binary was built with llama.cpp's multimodal library (it then takes `--mmproj`). */
export function takesImages(binary: string): boolean {
  const help = spawnSync(binary, ['--help'], { encoding: 'utf8', timeout: 60_000 });
  return /--mmproj\b/.test(`${help.stdout}${help.stderr}`);
}

/**
 * Path of a llama-server binary, building it when not cached: only its target and what it links
 * (llama, ggml, mtmd, the server library), about 6 minutes on 2 cores.
 */
export function ensureLlamaServer(log: (message: string) => void): string {
  const found = findLlamaServer();
  if (found) return found;
  const version = llamaPackageVersion();
  const binary = builtBinary();
  const dir = dirname(dirname(dirname(dirname(binary))));
  mkdirSync(dir, { recursive: true });
  log(`building llama-server from node-llama-cpp@${version}'s llama.cpp source in ${dir} (once; takes minutes)`);
  const started = performance.now();
  if (!existsSync(join(dir, 'src'))) {
    run('npm', ['pack', `node-llama-cpp@${version}`, '--pack-destination', dir], dir);
    run('tar', ['xzf', `node-llama-cpp-${version}.tgz`, 'package/llama/gitRelease.bundle'], dir);
    run('git', ['clone', '--quiet', 'package/llama/gitRelease.bundle', 'src'], dir);
  }
  const src = join(dir, 'src');
  // The same packaging as the prebuilt binaries we run: CPU backends as loadable libraries. Only a
  // generic one is built: our prebuilt variants are copied beside it and llama.cpp prefers the
  // best of those for this CPU, so both servers run the same kernels. No web UI: it is either
  // built with npm or downloaded, and the benchmarks do not use it. The server links llama.cpp's
  // multimodal library (mtmd), which image chats need.
  run(
    'cmake',
    [
      '-B',
      'build-dl',
      '-DCMAKE_BUILD_TYPE=Release',
      '-DGGML_NATIVE=OFF',
      '-DGGML_BACKEND_DL=ON',
      '-DGGML_CPU_ALL_VARIANTS=OFF',
      '-DBUILD_SHARED_LIBS=ON',
      '-DLLAMA_CURL=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_EXAMPLES=OFF',
      '-DLLAMA_BUILD_UI=OFF',
      '-DLLAMA_USE_PREBUILT_UI=OFF',
    ],
    src,
  );
  run('cmake', ['--build', 'build-dl', '--target', 'llama-server', '-j', '2'], src);
  shareCpuBackends(dirname(binary));
  log(`llama-server built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

/**
 * Flags of every tgi-node a benchmark measures: no response cache. llama-server has none, and
 * benchmarks repeat requests (warm-ups, rounds over the same prompts) that it would answer at once.
 */
export const NO_RESPONSE_CACHE = ['--response-cache-size', '0'];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface Process {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs `work` with the `others` servers stopped (SIGSTOP): an idle server is not idle at once
 * (llama-server's workers spin for a few hundred milliseconds after each request, waiting for
 * more), and the servers share the same cores. Windows has no such signals: there they keep running.
 */
export async function withOthersStopped<T>(others: readonly ChildProcess[], work: () => Promise<T>): Promise<T> {
  const stopped = process.platform === 'win32' ? [] : others;
  for (const child of stopped) child.kill('SIGSTOP');
  try {
    return await work();
  } finally {
    for (const child of stopped) child.kill('SIGCONT');
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a server process and waits until GET `healthPath` answers 200. */
export async function startProcess(
  command: string,
  args: string[],
  url: string,
  healthPath = '/health',
  env: NodeJS.ProcessEnv = process.env,
): Promise<Process> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${command} exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
    try {
      if ((await fetch(`${url}${healthPath}`)).status === 200) return { url, child, stop: () => stopChild(child) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not become healthy:\n${stderr}`);
}
