// --model-id as a hub repository: the real server downloads from a local server that answers the
// hub's routes, into huggingface_hub's cache layout, and loads from the cache offline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { GREEDY_CONTINUATION, quantizedStories, STORIES } from './helpers/models.js';
import { MAIN, type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { startFakeHub, VALID_TOKEN, type FakeHub } from './helpers/fake-hub.js';
import { splitGguf } from './helpers/split-gguf.js';
import { writeProjector } from '../src/bench/model/projector.js';

const OLD = '1'.repeat(40);
const NEW = 'a'.repeat(40);
const REPO = 'org/stories-GGUF';
const Q8 = 'stories260K-Q8_0.gguf';
const F32 = 'stories260K-F32.gguf';
const VISION = 'org/stories-vision-GGUF';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('models from the Hugging Face hub', () => {
  let hub: FakeHub;
  let q8: Uint8Array;
  let f32: Uint8Array;
  let projectorF16: Uint8Array;
  const homes: string[] = [];
  const freshHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'tgi-node-hf-home-'));
    homes.push(home);
    return home;
  };
  const env = (home: string, extra: Record<string, string> = {}) => ({
    HF_ENDPOINT: hub.url,
    HF_HOME: home,
    HF_TOKEN: '',
    HUGGING_FACE_HUB_TOKEN: '',
    HF_HUB_CACHE: '',
    HUGGINGFACE_HUB_CACHE: '',
    ...extra,
  });
  const repoDir = (home: string, repo = REPO) => join(home, 'hub', `models--${repo.replace('/', '--')}`);
  const info = async (server: RunningServer) => (await fetch(`${server.url}/info`)).json() as Promise<Record<string, unknown>>;
  const generate = async (server: RunningServer) =>
    (await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 20 } })).json
      .generated_text as string;

  before(async () => {
    q8 = readFileSync(await quantizedStories());
    f32 = readFileSync(STORIES);
    const splitDir = mkdtempSync(join(tmpdir(), 'tgi-node-split-'));
    const parts = await splitGguf(STORIES, join(splitDir, 'stories260K-F32'), 2);
    const readme = new TextEncoder().encode('# stories260K\n');
    // Random-weight projectors writing rows of stories260K's width (64), in F16 and Q8_0.
    writeProjector({ family: 'mlp', outPath: join(splitDir, 'mmproj-f16.gguf'), outputWidth: 64, matrixType: 'f16' });
    writeProjector({ family: 'mlp', outPath: join(splitDir, 'mmproj-q8_0.gguf'), outputWidth: 64, matrixType: 'q8_0' });
    projectorF16 = readFileSync(join(splitDir, 'mmproj-f16.gguf'));
    hub = await startFakeHub([
      {
        id: REPO,
        commits: {
          [OLD]: { 'README.md': readme, [F32]: f32 },
          [NEW]: { 'README.md': readme, [F32]: f32, [Q8]: q8 },
        },
        refs: { main: NEW, v1: OLD },
        pipelineTag: 'text-generation',
      },
      {
        id: VISION,
        commits: {
          [NEW]: {
            [Q8]: q8,
            'mmproj-stories-F16.gguf': projectorF16,
            'mmproj-stories-Q8_0.gguf': readFileSync(join(splitDir, 'mmproj-q8_0.gguf')),
          },
        },
        refs: { main: NEW },
      },
      { id: 'org/t2t-GGUF', commits: { [NEW]: { [Q8]: q8 } }, refs: { main: NEW }, pipelineTag: 'text2text-generation' },
      { id: 'org/gated-GGUF', commits: { [NEW]: { [Q8]: q8 } }, refs: { main: NEW }, gated: true },
      {
        id: 'org/split-GGUF',
        commits: { [NEW]: Object.fromEntries(parts.map((p) => [p.slice(splitDir.length + 1), readFileSync(p)])) },
        refs: { main: NEW },
      },
    ]);
  });
  after(() => hub.close());

  it('first start downloads the preferred GGUF into an empty cache, in huggingface_hub layout; /info reports the commit', async () => {
    const home = freshHome();
    const server = await startServer([], env(home), REPO);
    try {
      const dir = repoDir(home);
      assert.equal(readFileSync(join(dir, 'refs', 'main'), 'utf8'), NEW);
      const pointer = join(dir, 'snapshots', NEW, Q8);
      assert.ok(lstatSync(pointer).isSymbolicLink(), 'the snapshot file is a symlink');
      assert.equal(realpathSync(pointer), realpathSync(join(dir, 'blobs', sha256(q8))));
      assert.deepEqual(readdirSync(join(dir, 'blobs')), [sha256(q8)], 'only the chosen file is downloaded');
      assert.equal(sha256(readFileSync(pointer)), sha256(q8));
      const body = await info(server);
      assert.equal(body.model_id, REPO);
      const models = await (await fetch(`${server.url}/v1/models`)).json();
      assert.deepEqual(
        models.data.map((m: { id: string }) => m.id),
        [REPO],
        'a hub model is served under its repository id',
      );
      // The openai client sends the id's slash as %2F; either way it names the model.
      for (const id of [REPO, encodeURIComponent(REPO)])
        assert.deepEqual(await (await fetch(`${server.url}/v1/models/${id}`)).json(), models.data[0]);
      assert.equal(body.model_sha, NEW);
      assert.equal(body.model_pipeline_tag, 'text-generation');
      // TGI's POST / returns the full text by default for a text-generation model.
      const compat = await postJson(`${server.url}/`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3 } });
      assert.ok(compat.json[0].generated_text.startsWith('Once upon a time'), compat.text);
      assert.ok(
        server.logs.some((line) => line.includes('Downloading') && line.includes('100%')),
        'download progress is logged',
      );
      assert.ok((await generate(server)).length > 20);
    } finally {
      await server.stop();
    }

    const requestsBefore = hub.requests.length;
    const offline = await startServer([], env(home, { HF_HUB_OFFLINE: '1' }), REPO);
    try {
      assert.equal(hub.requests.length, requestsBefore, 'no request to the hub when offline');
      assert.equal((await info(offline)).model_sha, NEW);
      assert.ok((await generate(offline)).length > 20);
    } finally {
      await offline.stop();
    }
  });

  it('a repository with projectors: the F16 one comes with the model, into the cache, and the log names it; --no-mmproj fetches none', async () => {
    const home = freshHome();
    const refused = await startServer(['--no-mmproj'], env(home), VISION);
    try {
      assert.deepEqual(readdirSync(join(repoDir(home, VISION), 'blobs')), [sha256(q8)], 'the model only');
      assert.ok(
        refused.logs.some((line) => line.includes('Projector: none (--no-mmproj)')),
        refused.logs.join('\n'),
      );
    } finally {
      await refused.stop();
    }
    const server = await startServer([], env(home), VISION);
    try {
      assert.deepEqual(readdirSync(join(repoDir(home, VISION), 'blobs')).sort(), [sha256(q8), sha256(projectorF16)].sort());
      const snapshot = join(repoDir(home, VISION), 'snapshots', NEW);
      assert.deepEqual(readdirSync(snapshot).sort(), ['mmproj-stories-F16.gguf', Q8]);
      const record = server.logs.find((l) => l.includes('"msg":"Projector:'));
      const line = JSON.parse(record ?? '{}') as { msg: string; projector?: string };
      assert.equal(line.projector, join(snapshot, 'mmproj-stories-F16.gguf'));
      assert.match(line.msg, /^Projector: \S+\/mmproj-stories-F16\.gguf \(\d+\.\d KiB, mlp, rows of 64\), found beside the model$/);
      assert.ok(
        server.logs.some((l) => l.includes('Downloading') && l.includes('mmproj-stories-F16.gguf') && !l.includes(Q8)),
        'only the projector was missing',
      );
      assert.ok((await generate(server)).length > 20);
    } finally {
      await server.stop();
    }
  });

  it('POST / of a model whose pipeline tag is not text-generation returns only the new text, as TGI does; /info reports the validation workers given', async () => {
    const server = await startServer(['--validation-workers', '3'], env(freshHome()), 'org/t2t-GGUF');
    try {
      const body = await info(server);
      assert.equal(body.model_pipeline_tag, 'text2text-generation');
      assert.equal(body.validation_workers, 3);
      const compat = await postJson(`${server.url}/`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 3 } });
      assert.equal(compat.status, 200, compat.text);
      assert.ok(!compat.json[0].generated_text.startsWith('Once upon a time'), compat.text);
      const full = await postJson(`${server.url}/`, {
        inputs: 'Once upon a time',
        parameters: { max_new_tokens: 3, return_full_text: true },
      });
      assert.equal(full.json[0].generated_text, `Once upon a time${compat.json[0].generated_text}`);
    } finally {
      await server.stop();
    }
  });

  it('an interrupted download resumes where it stopped', async () => {
    const home = freshHome();
    hub.faults.cutNextDownloadAfter = 300_000;
    await assert.rejects(startServer([], env(home), REPO), /server exited/);
    const partial = join(repoDir(home), 'blobs', `${sha256(q8)}.incomplete`);
    // What reached the disk before the process stopped: at most the bytes sent.
    const kept = statSync(partial).size;
    assert.ok(kept > 100_000 && kept <= 300_000, `partial file of ${kept} bytes`);
    const server = await startServer([], env(home), REPO);
    try {
      assert.ok(
        hub.requests.some((r) => r.range === `bytes=${kept}-`),
        'the second start asks for the rest only',
      );
      assert.equal(sha256(readFileSync(join(repoDir(home), 'blobs', sha256(q8)))), sha256(q8));
      assert.ok(!existsSync(partial));
      assert.ok((await generate(server)).length > 20);
    } finally {
      await server.stop();
    }
  });

  it('a file whose size differs from what the hub lists is rejected and removed', async () => {
    const home = freshHome();
    hub.faults.misreportedSizes = { [Q8]: q8.length + 4096 };
    try {
      await assert.rejects(
        startServer([], env(home), REPO),
        new RegExp(`${Q8} has ${q8.length} bytes where the hub lists ${q8.length + 4096}`),
      );
    } finally {
      hub.faults.misreportedSizes = undefined;
    }
    const blobs = join(repoDir(home), 'blobs');
    assert.deepEqual(existsSync(blobs) ? readdirSync(blobs) : [], []);
  });

  it('a gated repository without a token fails with a clear error; with one it loads', async () => {
    const home = freshHome();
    await assert.rejects(
      startServer([], env(home), 'org/gated-GGUF'),
      /access to org\/gated-GGUF was refused .*gated or private.*no token is set.*HF_TOKEN \(or HUGGING_FACE_HUB_TOKEN\)/,
    );
    const server = await startServer([], env(home, { HF_TOKEN: VALID_TOKEN }), 'org/gated-GGUF');
    await server.stop();
  });

  it('--revision picks the snapshot of a tag; the tag is recorded in refs/', async () => {
    const home = freshHome();
    const server = await startServer(['--revision', 'v1'], env(home), REPO);
    try {
      assert.equal((await info(server)).model_sha, OLD);
      assert.equal(readFileSync(join(repoDir(home), 'refs', 'v1'), 'utf8'), OLD);
      assert.ok(existsSync(join(repoDir(home), 'snapshots', OLD, F32)));
      assert.ok((await generate(server)).startsWith(GREEDY_CONTINUATION.slice(0, 40)));
    } finally {
      await server.stop();
    }
  });

  it('--gguf-file picks a file by name', async () => {
    const home = freshHome();
    const server = await startServer(['--gguf-file', F32], env(home), REPO);
    try {
      assert.ok(existsSync(join(repoDir(home), 'snapshots', NEW, F32)));
      assert.ok(!existsSync(join(repoDir(home), 'snapshots', NEW, Q8)));
    } finally {
      await server.stop();
    }
    await assert.rejects(startServer(['--gguf-file', 'nope.gguf'], env(home), REPO), /no GGUF file named nope\.gguf; available: /);
  });

  it('a split GGUF downloads every part and loads as one model', async () => {
    const home = freshHome();
    const server = await startServer([], env(home), 'org/split-GGUF');
    try {
      const snapshot = join(repoDir(home, 'org/split-GGUF'), 'snapshots', NEW);
      assert.deepEqual(readdirSync(snapshot).sort(), ['stories260K-F32-00001-of-00002.gguf', 'stories260K-F32-00002-of-00002.gguf']);
      assert.ok((await generate(server)).startsWith(GREEDY_CONTINUATION.slice(0, 40)));
    } finally {
      await server.stop();
    }
  });

  it('offline with nothing cached, or an unknown repository: a clear error at once', async () => {
    const home = freshHome();
    await assert.rejects(
      startServer([], env(home, { HF_HUB_OFFLINE: '1' }), REPO),
      /HF_HUB_OFFLINE is set: org\/stories-GGUF@main is not in the cache/,
    );
    await assert.rejects(startServer([], env(home), 'org/no-such-repo'), /org\/no-such-repo@main was not found on http/);
  });

  it('offline without --model-id: the error names the default repository, the cause and the way out', async () => {
    const home = freshHome();
    // A port that was just free: the connection is refused, as a hub behind no network is.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const run = (extra: Record<string, string>) => {
      const { MODEL_ID: _modelId, ...inherited } = process.env;
      return spawnSync(process.execPath, [MAIN, '--hostname', '127.0.0.1', '--port', '0'], {
        encoding: 'utf8',
        env: { ...inherited, ...env(home, extra) },
        timeout: 60_000,
      });
    };
    const unreachable = run({ HF_ENDPOINT: `http://127.0.0.1:${closedPort}` });
    assert.equal(unreachable.status, 2);
    const message = unreachable.stdout + unreachable.stderr;
    assert.match(message, /cannot reach http:\/\/127\.0\.0\.1:\d+ to fetch Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF \(ECONNREFUSED\)/);
    assert.match(message, /give its path: --model-id path\/to\/model\.gguf/);
    const offline = run({ HF_HUB_OFFLINE: '1' });
    assert.equal(offline.status, 2);
    assert.match(
      offline.stdout + offline.stderr,
      /HF_HUB_OFFLINE is set: Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF@main is not in the cache .*--model-id path\/to\/model\.gguf/,
    );
  });

  it('a local directory of GGUFs: the preferred one, or the one named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tgi-node-model-dir-'));
    mkdirSync(join(dir, 'sub'));
    copyFileSync(STORIES, join(dir, F32));
    copyFileSync(await quantizedStories(), join(dir, 'sub', Q8));
    const server = await startServer([], {}, dir);
    try {
      assert.ok(
        server.logs.some((line) => line.includes('Q8_0')),
        'the Q8_0 file is preferred',
      );
    } finally {
      await server.stop();
    }
    const named = await startServer(['--gguf-file', F32], {}, dir);
    try {
      assert.ok((await generate(named)).startsWith(GREEDY_CONTINUATION.slice(0, 40)));
      assert.ok(!named.logs.some((line) => line.includes('Q8_0')));
    } finally {
      await named.stop();
    }
  });
});
