// Compiles the WebAssembly text kernels under src/ into binaries beside the compiled JavaScript,
// each only when its text is newer than its binary.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function* watFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* watFiles(path);
    else if (entry.name.endsWith('.wat')) yield path;
  }
}

const stale = [];
for (const source of watFiles(join(root, 'src'))) {
  const target = join(root, 'dist', relative(root, source)).replace(/\.wat$/, '.wasm');
  if (!existsSync(target) || statSync(target).mtimeMs < statSync(source).mtimeMs) stale.push({ source, target });
}

if (stale.length > 0) {
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  for (const { source, target } of stale) {
    const module = wabt.parseWat(source, readFileSync(source, 'utf8'), { simd: true });
    module.validate();
    const { buffer } = module.toBinary({});
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, buffer);
    module.destroy();
  }
}
