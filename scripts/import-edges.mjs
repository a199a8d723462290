// Prints the folder -> folder import edges of src/ (one line each, with how many imports), to see
// the layer order that eslint.config.js enforces. Usage: node scripts/import-edges.mjs [folder]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];
const edges = new Map();
const visit = (path) => {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path)) visit(join(path, name));
    return;
  }
  if (!path.endsWith('.ts')) return;
  const file = relative(join(root, 'src'), path).split('\\').join('/');
  const from = file.split('/')[0];
  const text = readFileSync(path, 'utf8');
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']*)'/g)) {
    const target = posix.normalize(posix.join(posix.dirname(file), match[1]));
    const to = target.split('/')[0];
    if (to === from || to === '..') continue;
    const key = `${from} -> ${to}`;
    edges.set(key, [...(edges.get(key) ?? []), file]);
  }
};
visit(join(root, 'src'));
for (const key of [...edges.keys()].sort()) {
  if (only && !key.startsWith(`${only} `)) continue;
  const files = edges.get(key);
  console.log(`${key}  (${files.length}: ${[...new Set(files)].join(', ')})`);
}
