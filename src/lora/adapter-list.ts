// --lora-adapters: a comma-separated list of `id` (a hub repository holding a GGUF LoRA) or
// `id=path` (a local GGUF LoRA file), as TGI's LORA_ADAPTERS.

export interface AdapterSource {
  id: string;
  /** A local file; absent: `id` is a hub repository. */
  path?: string;
}

export class AdapterListError extends Error {}

export function parseAdapterList(value: string): AdapterSource[] {
  const sources: AdapterSource[] = [];
  for (const entry of value.split(',').map((item) => item.trim())) {
    if (entry.length === 0) continue;
    const equals = entry.indexOf('=');
    const id = (equals < 0 ? entry : entry.slice(0, equals)).trim();
    const path = equals < 0 ? undefined : entry.slice(equals + 1).trim();
    if (id.length === 0) throw new AdapterListError(`--lora-adapters: "${entry}" has no id (give id or id=path)`);
    if (path !== undefined && path.length === 0) throw new AdapterListError(`--lora-adapters: "${entry}" has no path after "="`);
    if (sources.some((source) => source.id === id)) throw new AdapterListError(`--lora-adapters: the id "${id}" is given twice`);
    sources.push(path === undefined ? { id } : { id, path });
  }
  return sources;
}
