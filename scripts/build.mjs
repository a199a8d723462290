// Builds dist/ only when a source changed since the last build: `npm start` and `npm test` run it
// every time, so an unchanged checkout starts at once. What changed is compiled incrementally
// (tsc's build info in dist/), and the WebAssembly kernels only when their text is newer.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.build-stamp');
/** A file the launcher needs: a build that lost it is not fresh whatever the stamp says. */
const entry = join(root, 'dist', 'src', 'cli', 'main.js');

/** The newest modification time among the inputs (directories too: a removed file changes its folder). */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const input of ['src', 'test', 'scripts', 'tsconfig.json', 'package.json']) {
    if (existsSync(join(root, input))) visit(join(root, input));
  }
  return newest;
}

function fresh() {
  if (!existsSync(stamp) || !existsSync(entry)) return false;
  return statSync(stamp).mtimeMs >= newestInput();
}

function run(script, args = []) {
  const result = spawnSync(process.execPath, [join(root, script), ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!fresh()) {
  // The stamp is dated from the start, so that a source saved during the build makes the next one build again.
  const started = new Date();
  run('node_modules/@typescript/native/bin/tsc', ['-p', 'tsconfig.json']);
  run('scripts/build-wasm.mjs');
  writeFileSync(stamp, `${started.toISOString()}\n`);
  utimesSync(stamp, started, started);
}
