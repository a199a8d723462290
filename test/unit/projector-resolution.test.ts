// The vision projector the launcher serves a model with: found beside the model in a hub repository
// (downloaded into the cache, as the model is) or a directory, named by --mmproj, refused by
// --no-mmproj, and checked from its header; resolved against the local hub stand-in, in-process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeProjector } from '../../src/bench/model/projector.js';
import { hubEnvironment } from '../../src/hub/environment.js';
import { resolveModel } from '../../src/hub/resolve-model.js';
import { ConfigError, resolveConfig } from '../../src/cli/config.js';
import { buildCommand, parseOptions, type Options } from '../../src/cli/options.js';
import { findsProjector, locateProjector } from '../../src/cli/projector.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { STORIES } from '../helpers/models.js';

const COMMIT = 'c'.repeat(40);
const VISION = 'org/vision-GGUF';
const TEXT = 'org/text-GGUF';
const MODEL = 'stories260K-F32.gguf';
const F16 = 'mmproj-stories-F16.gguf';
const Q8 = 'mmproj-stories-Q8_0.gguf';
const WIDTH = 64; // stories260K's embedding width

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The flags as the launcher parses them from this command line (the environment left out). */
function flags(...argv: string[]): Options {
  const command = buildCommand('0');
  command.parse(['node', 'tgi-node', ...argv]);
  return parseOptions(command, {});
}

describe('the vision projector beside the model', () => {
  let dir: string;
  let hub: FakeHub;
  let f16: Uint8Array;
  let q8: Uint8Array;
  let model: Uint8Array;
  let notClip: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgi-node-projector-'));
    writeProjector({ family: 'mlp', outPath: join(dir, F16), outputWidth: WIDTH, matrixType: 'f16' });
    writeProjector({ family: 'mlp', outPath: join(dir, Q8), outputWidth: WIDTH, matrixType: 'q8_0' });
    f16 = readFileSync(join(dir, F16));
    q8 = readFileSync(join(dir, Q8));
    model = readFileSync(STORIES);
    notClip = join(dir, 'mmproj-not-clip.gguf');
    copyFileSync(STORIES, notClip);
    hub = await startFakeHub([
      {
        id: VISION,
        commits: { [COMMIT]: { 'README.md': new TextEncoder().encode('# v\n'), [MODEL]: model, [Q8]: q8, [F16]: f16 } },
        refs: { main: COMMIT },
      },
      { id: TEXT, commits: { [COMMIT]: { [MODEL]: model } }, refs: { main: COMMIT } },
      { id: 'org/bad-GGUF', commits: { [COMMIT]: { [MODEL]: model, 'mmproj-F16.gguf': readFileSync(STORIES) } }, refs: { main: COMMIT } },
    ]);
  });
  after(() => hub.close());

  /** --model-id resolved as the launcher does: the model, then its projector. */
  async function resolve(modelId: string, options: Options, home = mkdtempSync(join(tmpdir(), 'tgi-node-hf-home-')), offline = false) {
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, ...(offline ? { HF_HUB_OFFLINE: '1' } : {}) };
    const resolved = await resolveModel(modelId, {
      revision: 'main',
      projector: findsProjector(options),
      hub: hubEnvironment(env),
      log: () => undefined,
      warn: () => undefined,
    });
    const choice = await locateProjector(options, resolved);
    const blobs = join(home, 'hub', `models--${modelId.replace('/', '--')}`, 'blobs');
    return { resolved, choice, home, blobs: () => readdirSync(blobs).sort() };
  }

  it('a repository with an F16 and a Q8_0 projector: the F16 one is downloaded beside the model and set in Config', async () => {
    const options = flags();
    const { resolved, choice, home, blobs } = await resolve(VISION, options);
    assert.deepEqual(blobs(), [sha256(model), sha256(f16)].sort(), 'the model and the F16 projector only');
    assert.equal(realpathSync(resolved.path), realpathSync(join(home, 'hub', 'models--org--vision-GGUF', 'blobs', sha256(model))));
    assert.equal(resolved.projectorPath, join(home, 'hub', 'models--org--vision-GGUF', 'snapshots', COMMIT, F16));
    assert.equal(sha256(readFileSync(resolved.projectorPath!)), sha256(f16));
    assert.deepEqual(choice.projector, { path: resolved.projectorPath, bytes: f16.length, projectorType: 'mlp', width: WIDTH });
    assert.match(choice.description, new RegExp(`^Projector: \\S+/${F16} \\(\\d+\\.\\d KiB, mlp, rows of 64\\), found beside the model$`));

    const info = LlamaModel.load(resolved.path, { vocabOnly: true }).info();
    const config = resolveConfig(
      { ...options, modelId: VISION, modelPath: resolved.path, projectorPath: choice.projector?.path },
      info,
      () => undefined,
    );
    assert.equal(config.projectorPath, resolved.projectorPath);
    assert.equal(config.engine.modelPath, resolved.path);

    // Offline, the cached snapshot holds it: the same projector without the hub.
    const requests = hub.requests.length;
    const offline = await resolve(VISION, options, home, true);
    assert.equal(hub.requests.length, requests, 'no request to the hub');
    assert.equal(offline.resolved.projectorPath, resolved.projectorPath);
    assert.equal(offline.choice.projector?.path, resolved.projectorPath);
  });

  it('--no-mmproj: nothing downloaded for a projector, none in Config, and the log says why', async () => {
    for (const options of [flags('--no-mmproj'), flags('--no-mmproj', 'true')]) {
      const { resolved, choice, blobs } = await resolve(VISION, options);
      assert.deepEqual(blobs(), [sha256(model)]);
      assert.equal(resolved.projectorPath, undefined);
      assert.equal(choice.projector, undefined);
      assert.equal(choice.description, 'Projector: none (--no-mmproj): the model takes text only');
      const config = resolveConfig(
        { ...options, modelId: VISION, modelPath: resolved.path },
        LlamaModel.load(resolved.path, { vocabOnly: true }).info(),
        () => undefined,
      );
      assert.equal(config.projectorPath, undefined);
      assert.ok(!('projectorPath' in config));
    }
  });

  it('--mmproj names a local file that wins over the repository’s; none of those is downloaded', async () => {
    const local = join(dir, 'local-mmproj.gguf');
    copyFileSync(join(dir, Q8), local);
    const { resolved, choice, blobs } = await resolve(VISION, flags('--mmproj', local));
    assert.deepEqual(blobs(), [sha256(model)]);
    assert.equal(resolved.projectorPath, undefined);
    assert.equal(choice.projector?.path, local);
    assert.equal(choice.projector?.bytes, q8.length);
    assert.match(choice.description, /^Projector: \S+local-mmproj\.gguf \(\d+\.\d KiB, mlp, rows of 64\), --mmproj$/);
  });

  it('a GGUF that is not a clip projector: a ConfigError naming the file', async () => {
    await assert.rejects(
      resolve(TEXT, flags('--mmproj', notClip)),
      (error: unknown) =>
        error instanceof ConfigError && error.message === `--mmproj (MMPROJ): ${notClip} is not a projector (architecture llama)`,
    );
    await assert.rejects(resolve(TEXT, flags('--mmproj', join(dir, 'absent.gguf'))), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `--mmproj (MMPROJ): no such file: ${join(dir, 'absent.gguf')}`);
      return true;
    });
    await assert.rejects(resolve('org/bad-GGUF', flags()), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /^the projector found beside the model: \S+\/mmproj-F16\.gguf is not a projector \(architecture llama\); give --mmproj another one, or --no-mmproj to serve the model without one$/,
      );
      return true;
    });
  });

  it('--mmproj and --no-mmproj both given (as flags or variables): a ConfigError before anything is fetched', () => {
    const requests = hub.requests.length;
    const both = /^--mmproj \(MMPROJ\) x\.gguf and --no-mmproj \(NO_MMPROJ\) are both given: .*give one of them$/;
    assert.throws(
      () => findsProjector(flags('--mmproj', 'x.gguf', '--no-mmproj')),
      (error: unknown) => error instanceof ConfigError && both.test(error.message),
    );
    const command = buildCommand('0');
    const saved = { MMPROJ: process.env.MMPROJ, NO_MMPROJ: process.env.NO_MMPROJ };
    process.env.MMPROJ = 'x.gguf';
    process.env.NO_MMPROJ = '1';
    try {
      command.parse(['node', 'tgi-node']);
    } finally {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    }
    assert.throws(
      () => findsProjector(parseOptions(command, {})),
      (error: unknown) => error instanceof ConfigError && both.test(error.message),
    );
    assert.equal(findsProjector(flags('--mmproj', 'x.gguf', '--no-mmproj', 'false')), false);
    assert.equal(findsProjector(flags()), true);
    assert.equal(hub.requests.length, requests);
  });

  it('a local directory: the projector beside the model is found; a single .gguf file gets none', async () => {
    const modelDir = mkdtempSync(join(tmpdir(), 'tgi-node-vision-dir-'));
    mkdirSync(join(modelDir, 'other'));
    copyFileSync(STORIES, join(modelDir, MODEL));
    copyFileSync(join(dir, Q8), join(modelDir, Q8));
    copyFileSync(join(dir, F16), join(modelDir, 'other', F16));
    const found = await resolve(modelDir, flags());
    assert.equal(found.resolved.path, join(modelDir, MODEL));
    assert.equal(found.resolved.projectorPath, join(modelDir, Q8), "the model's own folder first");
    assert.equal(found.choice.projector?.path, join(modelDir, Q8));
    const refused = await resolve(modelDir, flags('--no-mmproj'));
    assert.equal(refused.choice.projector, undefined);

    const single = await resolve(join(modelDir, MODEL), flags());
    assert.equal(single.resolved.projectorPath, undefined);
    assert.equal(
      single.choice.description,
      'Projector: none (the model is a single .gguf file; --mmproj names a projector): the model takes text only',
    );
    const named = await resolve(join(modelDir, MODEL), flags('--mmproj', join(modelDir, 'other', F16)));
    assert.equal(named.choice.projector?.path, join(modelDir, 'other', F16));

    const bare = mkdtempSync(join(tmpdir(), 'tgi-node-text-dir-'));
    copyFileSync(STORIES, join(bare, MODEL));
    assert.equal(
      (await resolve(bare, flags())).choice.description,
      'Projector: none (no mmproj*.gguf file in the directory of --model-id): the model takes text only',
    );
  });
});
