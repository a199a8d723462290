// The hub settings huggingface_hub reads from the environment, read the same way so that files
// fetched by Python tools are found here and the other way round. The launcher reads the variables
// (HUB_VARIABLES) from the process environment once and passes their values here.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubEnvironment {
  endpoint: string;
  cacheDir: string;
  token: string | undefined;
  offline: boolean;
}

/** The environment variables the hub settings come from. */
export const HUB_VARIABLES = [
  'HF_ENDPOINT',
  'HF_HOME',
  'XDG_CACHE_HOME',
  'HF_HUB_CACHE',
  'HUGGINGFACE_HUB_CACHE',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'HF_TOKEN_PATH',
  'HF_HUB_OFFLINE',
] as const;

/** The values of HUB_VARIABLES (absent: unset). */
export type HubVariables = Partial<Record<(typeof HUB_VARIABLES)[number], string>>;

const TRUE_VALUES = new Set(['1', 'on', 'yes', 'true']);

/** An environment variable set to the empty string counts as unset, as in huggingface_hub. */
const read = (env: HubVariables, name: keyof HubVariables) => (env[name] ? env[name] : undefined);

function hubHome(env: HubVariables): string {
  return read(env, 'HF_HOME') ?? join(read(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
}

/** HF_HUB_CACHE, then the older HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub. */
function hubCacheDir(env: HubVariables): string {
  return read(env, 'HF_HUB_CACHE') ?? read(env, 'HUGGINGFACE_HUB_CACHE') ?? join(hubHome(env), 'hub');
}

/** HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file `huggingface-cli login` writes. */
function hubToken(env: HubVariables): string | undefined {
  const fromEnv = read(env, 'HF_TOKEN') ?? read(env, 'HUGGING_FACE_HUB_TOKEN');
  if (fromEnv) return fromEnv.trim();
  try {
    const token = readFileSync(read(env, 'HF_TOKEN_PATH') ?? join(hubHome(env), 'token'), 'utf8').trim();
    return token.length > 0 ? token : undefined;
  } catch {
    return undefined;
  }
}

export function hubEnvironment(env: HubVariables, cacheOverride?: string): HubEnvironment {
  return {
    endpoint: (read(env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    cacheDir: cacheOverride || hubCacheDir(env),
    token: hubToken(env),
    offline: TRUE_VALUES.has((read(env, 'HF_HUB_OFFLINE') ?? '').toLowerCase()),
  };
}
