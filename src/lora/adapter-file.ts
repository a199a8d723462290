// Checks that a GGUF LoRA adapter fits the served model before llama.cpp loads it, so that a
// mismatch is a clear startup error: a file that is no LoRA, another architecture, a tensor the
// model lacks, or shapes that do not match the model's.
import { existsSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';

export class AdapterMismatchError extends Error {}

interface Header {
  metadata: Record<string, unknown>;
  shapes: Map<string, number[]>;
}

async function header(path: string): Promise<Header> {
  const parsed = await gguf(path, { allowLocalFile: true });
  const shapes = new Map(parsed.tensorInfos.map((info) => [info.name, info.shape.map(Number)]));
  return { metadata: parsed.metadata as Record<string, unknown>, shapes };
}

/** Reads the adapter's and the model's GGUF headers (not their weights) and compares them. */
export async function checkAdapterFits(
  id: string,
  adapterPath: string,
  modelPath: string,
): Promise<{ tensors: number; rank: number; alpha: number }> {
  if (!existsSync(adapterPath)) throw new AdapterMismatchError(`the file of adapter ${id} does not exist: ${adapterPath}`);
  const where = `LoRA adapter ${id} (${adapterPath.split(/[\\/]/).pop()})`;
  let adapter: Header;
  try {
    adapter = await header(adapterPath);
  } catch (error) {
    throw new AdapterMismatchError(`${where} is not a readable GGUF file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const model = await header(modelPath);
  const type = adapter.metadata['general.type'];
  const adapterType = adapter.metadata['adapter.type'];
  if (type !== 'adapter' || (adapterType !== 'lora' && adapterType !== 'alora')) {
    throw new AdapterMismatchError(
      `${where} is not a LoRA adapter (general.type ${JSON.stringify(type)}, adapter.type ${JSON.stringify(adapterType)}); convert it with llama.cpp's convert_lora_to_gguf.py`,
    );
  }
  if (adapterType === 'alora') throw new AdapterMismatchError(`${where} is an activated LoRA (aLoRA): not supported; give a plain LoRA`);
  const architecture = adapter.metadata['general.architecture'];
  const modelArchitecture = model.metadata['general.architecture'];
  if (architecture !== modelArchitecture) {
    throw new AdapterMismatchError(`${where} is for the ${String(architecture)} architecture; the model is ${String(modelArchitecture)}`);
  }
  let rank = 0;
  let tensors = 0;
  for (const [name, a] of adapter.shapes) {
    if (!name.endsWith('.lora_a')) continue;
    const base = name.slice(0, -'.lora_a'.length);
    const b = adapter.shapes.get(`${base}.lora_b`);
    if (!b) throw new AdapterMismatchError(`${where}: ${name} has no ${base}.lora_b`);
    const weight = model.shapes.get(base);
    if (!weight) throw new AdapterMismatchError(`${where} adapts ${base}, which the model does not have`);
    // ggml order: the weight is [inputs, outputs]; A is [inputs, rank], B is [rank, outputs].
    if (a[0] !== weight[0] || b[1] !== weight[1] || a[1] !== b[0]) {
      throw new AdapterMismatchError(
        `${where}: ${base} is [${weight.join(', ')}] in the model, but its A is [${a.join(', ')}] and B [${b.join(', ')}] (expected [${weight[0]}, r] and [r, ${weight[1]}])`,
      );
    }
    rank = Math.max(rank, a[1]);
    tensors++;
  }
  if (tensors === 0) throw new AdapterMismatchError(`${where} holds no LoRA tensors (*.lora_a / *.lora_b)`);
  const alpha = Number(adapter.metadata['adapter.lora.alpha'] ?? 0);
  return { tensors, rank, alpha };
}
