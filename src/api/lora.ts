// POST /v1/load_lora_adapter and /v1/unload_lora_adapter (vLLM's names and fields): LoRA adapters
// loaded and unloaded while the server runs.
import { z } from 'zod';

export const LoadLoraAdapterRequestSchema = z.object({
  lora_name: z.string().min(1).meta({ description: 'The id requests name the adapter by (adapter_id, or model on the OpenAI routes)' }),
  lora_path: z.string().min(1).meta({ description: 'A GGUF LoRA file on the server for the served model' }),
});

export const UnloadLoraAdapterRequestSchema = z.object({
  lora_name: z.string().min(1),
});

export const LoraAdapterResponseSchema = z.object({
  lora_name: z.string(),
  loaded: z.boolean(),
  lora_adapters: z.array(z.string()).meta({ description: 'The adapters loaded now' }),
});

export type LoraAdapterResponse = z.infer<typeof LoraAdapterResponseSchema>;
