// The API keys of the launcher: flag values (repeated or comma-separated) and key files.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/** The keys of a key file: one a line, blank lines and surrounding whitespace ignored. */
export function readKeyFile(path: string, flag: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`${flag}: cannot read the API key file ${path}: ${reason}`);
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (keys.length === 0) throw new ConfigError(`${flag}: the API key file ${path} holds no key (one key a line)`);
  return keys;
}

export interface KeySources {
  /** The flag's name, for messages. */
  flag: string;
  /** Values of the flag, already split at commas; [] when it was given empty. */
  values?: string[];
  file?: { path: string; flag: string };
}

/** Every key of the sources; [] when none was given. A flag given without any key is refused. */
export function resolveApiKeys(sources: KeySources): string[] {
  // An empty value is more likely an unset variable than a wish to serve without a key.
  if (sources.values !== undefined && sources.values.length === 0) {
    throw new ConfigError(`${sources.flag} is empty: give a key, or leave it out to serve without one`);
  }
  return [...(sources.values ?? []), ...(sources.file ? readKeyFile(sources.file.path, sources.file.flag) : [])];
}
