// The command line: help, environment variables, ignored TGI flags, configuration errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED, STORIES } from './helpers/models.js';
import { logMessages, runLauncher as run, startLoadingServer, startServer } from './helpers/server.js';
import { ENVIRONMENT, FLAGS, type Flag } from '../src/cli/options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Modification time of every file under a folder, by path. */
function mtimes(dir: string, into = new Map<string, number>()): Map<string, number> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) mtimes(path, into);
    else into.set(path, statSync(path).mtimeMs);
  }
  return into;
}

describe('launcher', () => {
  it('--help explains every TGI flag it supports', () => {
    const result = run(['--help']);
    assert.equal(result.status, 0);
    for (const flag of [
      '--model-id',
      '--hostname',
      '--port',
      '--max-concurrent-requests',
      '--max-best-of',
      '--max-stop-sequences',
      '--max-top-n-tokens',
      '--max-input-tokens',
      '--max-total-tokens',
      '--max-batch-prefill-tokens',
      '--max-batch-total-tokens',
      '--max-batch-size',
      '--json-output',
      '--threads',
      '--ctx-size',
      '--flash-attn',
      '--gpu-layers',
      '--otlp-endpoint',
      '--otlp-service-name',
    ]) {
      assert.match(result.stdout, new RegExp(`^\\s+(-\\w, )?${flag}\\b.*\\s{2,}[A-Z]`, 'm'), flag);
    }
    assert.match(result.stdout.replace(/\s+/g, ' '), /env: MAX_TOTAL_TOKENS/);
    assert.match(result.stdout.replace(/\s+/g, ' '), /OTLP\/HTTP endpoint .*gRPC is not spoken.*\/v1\/traces.*env: OTLP_ENDPOINT/);
    assert.match(result.stdout.replace(/\s+/g, ' '), /default: "text-generation-inference\.router", env: OTLP_SERVICE_NAME/);
  });

  it('a build with no source changed since the last one rewrites nothing (npm start and npm test build first)', () => {
    const build = () => spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(build().status, 0);
    const before = mtimes(join(ROOT, 'dist'));
    const second = build();
    assert.equal(second.status, 0, second.stderr);
    const after = mtimes(join(ROOT, 'dist'));
    const rewritten = [...after].filter(([path, mtime]) => before.get(path) !== mtime).map(([path]) => path);
    assert.deepEqual(rewritten, []);
  });

  it('npm test stops at once, in one line, when the shared test folder is missing or incomplete', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.match(pkg.scripts.test, /^node scripts\/check-shared\.mjs && /);
    const check = (shared: string) =>
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'check-shared.mjs'), shared], { encoding: 'utf8' });
    const absent = check(join(tmpdir(), 'tgi-node-no-such-shared-folder'));
    assert.equal(absent.status, 1);
    assert.equal(absent.stdout, '');
    assert.match(
      absent.stderr,
      /^npm test needs the shared test folder beside the checkout \(models\/stories260K\.gguf and the rest\): \S+ does not exist; README\.md, section "Tests", says where to get it\.\n$/,
    );
    const partial = mkdtempSync(join(tmpdir(), 'tgi-node-shared-'));
    mkdirSync(join(partial, 'chat-templates'));
    const incomplete = check(partial);
    assert.equal(incomplete.status, 1);
    assert.equal(incomplete.stderr.trim().split('\n').length, 1);
    assert.match(incomplete.stderr, /lacks models\/stories260K\.gguf, .*structured-output\/maskbench-dev;/);
    assert.doesNotMatch(incomplete.stderr, /lacks .*chat-templates/);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /\n### Tests\n[^#]*`models\/stories260K\.gguf` \| [^\n]*ggml-org\/models/);
    assert.equal(check(join(ROOT, '..', 'shared')).status, 0);
  });

  it('a HOSTNAME that is neither an address nor a resolvable name (a container id elsewhere) stops the launcher', () => {
    const result = run(['--model-id', STORIES, '--port', '0'], { HOSTNAME: 'a1b2c3d4e5f6.invalid' });
    assert.equal(result.status, 2);
    assert.match(
      result.stdout + result.stderr,
      /--hostname \(or HOSTNAME\) "a1b2c3d4e5f6\.invalid" is neither an IP address nor a name this machine resolves \(ENOTFOUND\)\. Give the address to listen on: --hostname 0\.0\.0\.0 for every interface, --hostname 127\.0\.0\.1 for this machine only\./,
    );
  });

  it('--mmproj with --no-mmproj, or a --mmproj that is no projector, stops the launcher with exit code 2 and the reason', () => {
    const both = run(['--model-id', STORIES, '--port', '0', '--mmproj', STORIES, '--no-mmproj']);
    assert.equal(both.status, 2);
    assert.match(both.stdout + both.stderr, /--mmproj \(MMPROJ\) \S+ and --no-mmproj \(NO_MMPROJ\) are both given/);
    const fromEnv = run(['--model-id', STORIES, '--port', '0', '--no-mmproj'], { MMPROJ: STORIES });
    assert.equal(fromEnv.status, 2);
    assert.match(fromEnv.stdout + fromEnv.stderr, /are both given/);
    const notClip = run(['--model-id', STORIES, '--hostname', '127.0.0.1', '--port', '0', '--mmproj', STORIES]);
    assert.equal(notClip.status, 2);
    assert.ok((notClip.stdout + notClip.stderr).includes(`--mmproj (MMPROJ): ${STORIES} is not a projector (architecture llama)`));
  });

  it('a hostname that resolves is listened on at its address, and the log says which', async () => {
    const server = await startServer(['--hostname', 'localhost']);
    try {
      assert.match(server.summary.listen, /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
      assert.equal((await fetch(`${server.summary.listen}/health`)).status, 200);
      assert.ok(
        server.logs.some((line) => line.includes(`Listening on ${server.summary.listen}`)),
        'the listen address is logged',
      );
    } finally {
      await server.stop();
    }
  });

  it('listening on every interface says so, with the real address and how to keep it local', async () => {
    const server = await startLoadingServer(['--hostname', '0.0.0.0']);
    try {
      const port = new URL(server.url).port;
      const line = () => server.logs.find((l) => l.includes('Listening on'));
      assert.ok(line(), server.logs.join('\n'));
      const { msg } = JSON.parse(line()!);
      assert.ok(
        msg.startsWith(
          `Listening on http://0.0.0.0:${port}, every interface of this machine (--hostname 127.0.0.1 keeps it to this machine); locally http://localhost:${port}`,
        ),
        msg,
      );
    } finally {
      await server.stop();
    }
  });

  it('--help and the README agree: every flag, the environment variables, the protected routes', () => {
    const help = run(['--help']).stdout;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const flat = help.replace(/\s+/g, ' ');
    const helpFlags = [...help.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]);
    assert.ok(helpFlags.length > 60);
    const mentioned = (flag: string) => new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(readme);
    assert.deepEqual(
      helpFlags.filter((flag) => !mentioned(flag)),
      [],
      'flags of --help the README does not mention',
    );
    const start = readme.indexOf('\n## Launcher flags');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const tableCells = [...section.matchAll(/^\| ([^|]*)\| ([^|]*)\|/gm)];
    const tableFlags = tableCells.flatMap((m) => [...m[1].matchAll(/`(--[a-z-]+)`/g)].map((f) => f[1]));
    assert.ok(tableFlags.length > 30);
    assert.deepEqual(
      tableFlags.filter((flag) => !helpFlags.includes(flag)),
      [],
      'flags of the README table --help lacks',
    );
    const tableEnv = tableCells.flatMap((m) => [...`${m[1]} ${m[2]}`.matchAll(/`([A-Z][A-Z_]+)`/g)].map((e) => e[1]));
    assert.deepEqual(
      tableEnv.filter((name) => !flat.includes(name)),
      [],
      'variables of the README --help lacks',
    );
    const environment = help.slice(help.indexOf('Environment variables'));
    const helpEnv = [...environment.matchAll(/^ {2}([A-Z][A-Z_]+) /gm)].map((m) => m[1]);
    for (const name of ['LOG_LEVEL', 'HF_TOKEN', 'HF_ENDPOINT', 'HF_HUB_OFFLINE', 'HF_HUB_CACHE', 'HF_HOME', 'TGI_NODE_LLAMA_PACKAGE'])
      assert.ok(helpEnv.includes(name), name);
    assert.deepEqual(
      helpEnv.filter((name) => !section.includes(`\`${name}\``)),
      [],
      'variables of --help the README section lacks',
    );
    // Every POST route of the README's route table needs the --api-key; --help says so.
    const apiKeyHelp = flat.slice(flat.indexOf('--api-key <key>'), flat.indexOf('--api-key-file'));
    const postRoutes = [...readme.matchAll(/^\| `POST ([^|]*)\|/gm)].flatMap((m) =>
      [...`\`${m[1]}`.matchAll(/`?(\/[\w/]*)`/g)].map((r) => r[1]),
    );
    assert.ok(postRoutes.includes('/watermark/detect') && postRoutes.includes('/v1/unload_lora_adapter'), postRoutes.join(' '));
    for (const route of postRoutes) assert.match(apiKeyHelp, new RegExp(`[ (]${route.replace(/\//g, '\\/')}[,;) ]`), route);
    const validationHelp = flat.slice(flat.indexOf('--validation-workers'), flat.indexOf('--graceful-termination-timeout'));
    assert.doesNotMatch(validationHelp, /Tokenization runs on the HTTP thread/);
    assert.match(validationHelp, /preprocessing thread/);
  });

  it('the README table and the flag table agree: every flag, its environment variable and its default', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Launcher flags');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const rows = [...section.matchAll(/^\| (`--[^|]*)\| ([^|]*)\| ([^|]*)\|/gm)].map((m) => ({
      flags: [...m[1].matchAll(/`(--[a-z-]+)`/g)].map((f) => f[1]),
      env: m[2],
      defaults: m[3].trim(),
    }));
    const flags = Object.values(FLAGS as Record<string, Flag>);
    const longs = flags.map((flag) => /--[a-z-]+/.exec(flag.flags)![0]);
    assert.deepEqual(
      rows.flatMap((row) => row.flags).filter((flag) => !longs.includes(flag)),
      [],
      'flags of the README table the flag table lacks',
    );
    for (const [i, flag] of flags.entries()) {
      const long = longs[i];
      const row = rows.find((r) => r.flags.includes(long));
      assert.ok(row, `${long} has a row in the README table`);
      assert.ok(row.env.includes(`\`${flag.env}\``), `${long}: the README gives its variable ${flag.env}`);
      if (flag.default === undefined) continue;
      const parts = row.defaults.split(', ');
      const shown = (parts.length === row.flags.length ? parts[row.flags.indexOf(long)] : row.defaults).replace(/`/g, '');
      if (typeof flag.default === 'boolean') assert.equal(shown, flag.default ? 'on' : 'off', long);
      else if (typeof flag.default === 'number') assert.equal(Number(shown), flag.default, long);
      else assert.equal(shown, flag.default, long);
    }
    const variables = readme.slice(readme.indexOf("Environment variables besides the flags' own"));
    for (const { name } of ENVIRONMENT) assert.ok(variables.includes(`\`${name}\``), `the README lists ${name}`);
  });

  it('every environment variable the server reads is in the flag table or its environment-only section', async () => {
    const known = new Set(Object.values(FLAGS as Record<string, Flag>).map((flag) => flag.env));
    const documented = ENVIRONMENT.map((e) => `${e.name} ${e.help}`).join(' ');
    const read = new Set<string>();
    const src = join(ROOT, 'src');
    for (const file of await readdir(src, { recursive: true })) {
      // The benchmark tools are not the server.
      if (!file.endsWith('.ts') || file.startsWith('bench')) continue;
      const text = readFileSync(join(src, file), 'utf8');
      // The launcher reads the environment once (cli/options.ts) and passes the values down.
      if (!file.startsWith('cli')) assert.doesNotMatch(text, /process\.env/, `${file} reads the process environment`);
      for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]{2,})|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\(env, '([A-Z][A-Z0-9_]+)'\)/g))
        read.add(m[1] ?? m[2] ?? m[3]);
    }
    for (const name of ['LOG_LEVEL', 'LOG_COLORIZE', 'COMPUTE_TYPE', 'TGI_NODE_LLAMA_PACKAGE', 'HF_TOKEN'])
      assert.ok(read.has(name), `${name} is found where it is read`);
    assert.deepEqual(
      [...read].filter((name) => !known.has(name) && !new RegExp(`\\b${name}\\b`).test(documented)),
      [],
      'variables read but not in the table',
    );
  });

  it('npm ci has nothing to warn about: every locked package runs on each tested Node, every install script is decided', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const node20 = [20, 999, 0];
    // The other versions CI tests, as pinned in the script that runs the suite on them.
    const pinned = /const PINNED = \[([^\]]*)\]/.exec(readFileSync(join(ROOT, 'scripts', 'test-node-versions.mjs'), 'utf8'))![1];
    const others = [...pinned.matchAll(/'([\d.]+)'/g)].map((m) => m[1].split('.').map(Number));
    assert.deepEqual(
      others.map((v) => v[0]),
      [22, 24],
    );
    const parse = (v: string) =>
      v
        .replace(/^v/, '')
        .split('.')
        .map((n) => (n === 'x' || n === '' ? 0 : Number(n)));
    const compare = (a: number[], b: number[]) => a[0] - b[0] || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0);
    const admits = (range: string, version: number[]): boolean =>
      range.split('||').some((set) =>
        set
          .trim()
          .replace(/(>=|<=|>|<|\^|~)\s+/g, '$1')
          .split(/\s+/)
          .every((comparator) => {
            const [, op, v] = /^(>=|<=|>|<|\^|~|=)?(.*)$/.exec(comparator)!;
            if (v === '*' || v === '') return true;
            const bound = parse(v);
            const c = compare(version, bound);
            if (op === '>=') return c >= 0;
            if (op === '>') return c > 0;
            if (op === '<=') return c <= 0;
            if (op === '<') return c < 0;
            if (op === '^' || op === '~' || (op === undefined && v.split('.').length === 1) || /\.x$/.test(v))
              return version[0] === bound[0] && c >= 0;
            return c === 0;
          }),
      );
    for (const version of [node20, ...others]) {
      assert.ok(admits(pkg.engines.node, version), `engines admits Node ${version.join('.')}`);
      const refused = Object.entries(lock.packages as Record<string, { version?: string; engines?: { node?: string } }>)
        .filter(([, entry]) => entry.engines?.node && !admits(entry.engines.node, version))
        .map(([path, entry]) => `${path}@${entry.version} wants Node ${entry.engines!.node}`);
      assert.deepEqual(refused, [], `on Node ${version.join('.')}`);
    }
    const scripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(scripts.length > 0);
    assert.deepEqual(
      scripts.filter((name) => !(name in (pkg.allowScripts ?? {}))),
      [],
      'packages whose install scripts npm would report as skipped',
    );
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const name of scripts)
      assert.match(readme, new RegExp(`allowScripts[^]*\`${name}\``), `the README says why ${name}'s install script does not run`);
  });

  it('both bins point at the launcher', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.bin['text-generation-launcher'], pkg.bin['tgi-node']);
  });

  it("refuses inconsistent limits with TGI's message and exit code 2", () => {
    const result = run(['--model-id', STORIES, '--max-input-tokens', '600', '--max-total-tokens', '512']);
    assert.equal(result.status, 2);
    assert.match(result.stdout + result.stderr, /`max_input_tokens`\(600\) must be < `max_total_tokens`\(512\)/);
  });

  it('an --otlp-endpoint that is not an http(s) URL is a configuration error', () => {
    const result = run(['--model-id', STORIES, '--otlp-endpoint', 'localhost:4318']);
    assert.equal(result.status, 2);
    assert.match(
      result.stdout + result.stderr,
      /--otlp-endpoint must be an http:\/\/ or https:\/\/ URL \(OTLP\/HTTP\), got "localhost:4318"/,
    );
  });

  it('a missing model file is a clear error', () => {
    const result = run(['--model-id', 'no/such/model.gguf']);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout + result.stderr, /model file not found: no\/such\/model\.gguf/);
  });

  it('a GGUF with a vocabulary and no weights is a clear error and exit code 1, every time', () => {
    // The engine thread fails at once while the preprocessing thread still loads the vocabulary:
    // the process used to abort (134) about one time in ten on its way out.
    const vocabOnly = join(SHARED, 'models', 'vocab', 'ggml-vocab-llama-spm.gguf');
    const codes: (number | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const result = run(['--model-id', vocabOnly, '--port', '0', '--hostname', '127.0.0.1']);
      codes.push(result.status);
      assert.match(result.stdout + result.stderr, /llama\.cpp could not load the model file .*ggml-vocab-llama-spm\.gguf/);
    }
    assert.deepEqual(codes, Array(20).fill(1));
  });

  it('reads environment variables, warns about TGI flags that cannot apply, and logs the startup summary', async () => {
    const server = await startServer(['--sharded', 'true', '--quantize', 'gptq'], { MAX_TOTAL_TOKENS: '256', MAX_BATCH_SIZE: '3' });
    try {
      const info = await (await fetch(`${server.url}/info`)).json();
      assert.equal(info.max_total_tokens, 256);
      const logs = server.logs.join('\n');
      assert.match(logs, /--sharded is ignored/);
      assert.match(logs, /--quantize is ignored/);
      const summary = server.summary;
      assert.equal(summary.maxBatchSize, 3);
      assert.equal(summary.architecture, 'llama');
      assert.equal(summary.threads, 1);
      assert.equal(summary.kvCacheTokens, 768);
      // stories260K loads in milliseconds: no progress lines, and a description without llama.cpp's guesses.
      const messages = logMessages(server.logs);
      assert.deepEqual(
        messages.filter((msg) => /^Loading /.test(msg)),
        [],
      );
      const model = messages.find((msg) => msg.startsWith('Model '));
      assert.match(model!, /: llama, 292\.8K parameters, 1\.1 MiB of F32 weights, vocabulary 512 \(spm\), trained context 512(;|$)/);
    } finally {
      await server.stop();
    }
  });
});
