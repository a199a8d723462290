// The environment-only variables: read once by the launcher's parseOptions, passed down as values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildCommand, parseOptions } from '../../src/cli/options.js';
import { hubEnvironment } from '../../src/hub/environment.js';

function options(env: Record<string, string>) {
  const command = buildCommand('0.0.0');
  command.parse([], { from: 'user' });
  return parseOptions(command, env);
}

describe('environment-only variables', () => {
  it('LOG_LEVEL gives the level (TGI filter strings read as their first level), info by default', () => {
    assert.equal(options({}).logLevel, 'info');
    assert.equal(options({ LOG_LEVEL: 'debug' }).logLevel, 'debug');
    assert.equal(options({ LOG_LEVEL: 'WARN,text_generation=debug' }).logLevel, 'warn');
    assert.equal(options({ LOG_LEVEL: 'text_generation_router=debug' }).logLevel, 'info');
  });

  it('LOG_COLORIZE=1 turns colours off, as in TGI; anything else leaves them to the terminal', () => {
    assert.equal(options({}).logColors, true);
    assert.equal(options({ LOG_COLORIZE: '1' }).logColors, false);
    assert.equal(options({ LOG_COLORIZE: '0' }).logColors, true);
  });

  it('COMPUTE_TYPE and TGI_NODE_LLAMA_PACKAGE are passed as they are', () => {
    assert.deepEqual([options({}).computeType, options({}).llamaPackage], [undefined, undefined]);
    const set = options({ COMPUTE_TYPE: 'gpu+custom', TGI_NODE_LLAMA_PACKAGE: 'linux-x64-vulkan' });
    assert.deepEqual([set.computeType, set.llamaPackage], ['gpu+custom', 'linux-x64-vulkan']);
  });

  it('the hub variables are taken, and only they; the hub settings follow huggingface_hub', () => {
    const hub = options({
      HF_HOME: '/data/hf',
      HF_TOKEN: ' hf_abc ',
      HF_HUB_OFFLINE: 'true',
      HF_ENDPOINT: 'https://hub.example/',
      HOME: '/home/x',
    }).hub;
    assert.deepEqual(hub, { HF_HOME: '/data/hf', HF_TOKEN: ' hf_abc ', HF_HUB_OFFLINE: 'true', HF_ENDPOINT: 'https://hub.example/' });
    assert.deepEqual(hubEnvironment(hub), { endpoint: 'https://hub.example', cacheDir: '/data/hf/hub', token: 'hf_abc', offline: true });
    assert.equal(
      hubEnvironment({ HF_HOME: '/data/hf', HF_HUB_CACHE: '', HUGGINGFACE_HUB_CACHE: '/old' }).cacheDir,
      '/old',
      'an empty variable counts as unset',
    );
    assert.equal(hubEnvironment(hub, '/flag').cacheDir, '/flag');
  });
});
