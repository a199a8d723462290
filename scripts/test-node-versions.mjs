#!/usr/bin/env node
// Runs the built test suite (dist/test) under other Node versions than the one running this script.
// Each Node binary is the npm package node-<platform>-<arch> at an exact version, installed once into
// a cache folder (TGI_NODE_VERSIONS_CACHE, default: <os tmpdir>/tgi-node-versions/<version>).
//   node scripts/test-node-versions.mjs            the versions pinned below
//   node scripts/test-node-versions.mjs 22.23.5    only the versions given
// Expects a current build (`npm run test:node-versions` checks ../shared and builds first). Each
// version runs the whole suite serially, with its binary first on PATH; exits 1 if any run failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The versions CI tests besides the one running `npm test`: latest 22.x and 24.x, pinned. */
const PINNED = ['22.23.5', '24.22.3'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const versions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : PINNED;
const cache = process.env.TGI_NODE_VERSIONS_CACHE || join(tmpdir(), 'tgi-node-versions');
const pkg = `node-${process.platform}-${process.arch}`;

function nodeBinary(version) {
  const prefix = join(cache, version);
  const binary = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(binary)) {
    console.log(`installing ${pkg}@${version} into ${prefix}`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const args = [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--prefix',
      prefix,
      `${pkg}@${version}`,
    ];
    const installed = spawnSync(npm, args, { stdio: 'inherit' });
    if (installed.status !== 0 || !existsSync(binary)) throw new Error(`could not install ${pkg}@${version}`);
  }
  const reported = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (reported !== `v${version}`) throw new Error(`${binary} reports ${reported ?? 'nothing'}, expected v${version}`);
  return binary;
}

/** Every script under dist/test, as `node --test dist/test/` on Node 20 runs them (inside a folder
 * named test, every .js/.cjs/.mjs file is a test file). Listed explicitly because from Node 21 on the
 * arguments of --test are glob patterns and a bare folder no longer is one. */
function testFiles(folder) {
  const files = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(path));
    else if (/\.[cm]?js$/.test(entry.name)) files.push(path);
  }
  return files.sort();
}

const files = testFiles(join(root, 'dist', 'test')).map((file) => relative(root, file));
if (files.length === 0) throw new Error('no built tests in dist/test: run `npm run build` first');

const results = [];
for (const version of versions) {
  const binary = nodeBinary(version);
  console.log(`\n# Node ${version}: ${files.length} test files`);
  const started = Date.now();
  const env = { ...process.env, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}` };
  const run = spawnSync(binary, ['--test', '--test-concurrency=1', ...files], { cwd: root, env, stdio: 'inherit' });
  results.push({ version, ok: run.status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}

console.log('');
for (const { version, ok, seconds } of results) console.log(`# Node ${version}: ${ok ? 'passed' : 'FAILED'} in ${seconds} s`);
process.exit(results.every((result) => result.ok) ? 0 : 1);
