// Loading and unloading LoRA adapters while the server runs (with --allow-runtime-lora; protected
// by the API key like every route that works on request content).
import type { FastifyInstance } from 'fastify';
import { LoadLoraAdapterRequestSchema, UnloadLoraAdapterRequestSchema, type LoraAdapterResponse } from '../../api/lora.js';
import { parseBody } from '../../api/parse.js';
import { AdapterChangeError } from '../../core/backend.js';
import { AdapterMismatchError, checkAdapterFits } from '../../lora/adapter-file.js';
import { ApiError } from '../errors.js';
import type { Generator } from '../generator.js';

export interface LoraAdminOptions {
  enabled: boolean;
  /** The served model's GGUF, that an adapter must fit. */
  modelPath: string;
}

export function registerLoraAdminRoutes(app: FastifyInstance, generator: Generator, options: LoraAdminOptions): void {
  // Shared with validation and the metrics: a change is seen by the next request.
  const loaded = generator.limits.loraAdapters as string[];
  const openai = { config: { family: 'openai' as const } };
  const answer = (name: string, isLoaded: boolean): LoraAdapterResponse => ({
    lora_name: name,
    loaded: isLoaded,
    lora_adapters: [...loaded],
  });
  const checkEnabled = () => {
    if (!options.enabled)
      throw new ApiError(
        403,
        'runtime_lora_disabled',
        'Loading LoRA adapters at runtime is off: start the server with --allow-runtime-lora',
      );
  };

  app.post('/v1/load_lora_adapter', openai, async (request) => {
    checkEnabled();
    const body = parseBody(LoadLoraAdapterRequestSchema, request.body);
    if (loaded.includes(body.lora_name))
      throw new ApiError(422, 'validation', `LoRA adapter ${body.lora_name} is already loaded`, 'lora_name');
    try {
      await checkAdapterFits(body.lora_name, body.lora_path, options.modelPath);
      await generator.backend.changeAdapter('load', body.lora_name, body.lora_path);
    } catch (error) {
      if (error instanceof AdapterMismatchError || error instanceof AdapterChangeError)
        throw new ApiError(422, 'validation', error.message, 'lora_path');
      throw error;
    }
    if (!loaded.includes(body.lora_name)) loaded.push(body.lora_name);
    return answer(body.lora_name, true);
  });

  app.post('/v1/unload_lora_adapter', openai, async (request) => {
    checkEnabled();
    const body = parseBody(UnloadLoraAdapterRequestSchema, request.body);
    if (!loaded.includes(body.lora_name))
      throw new ApiError(
        404,
        'not_found',
        `LoRA adapter ${body.lora_name} is not loaded; the loaded ones are: ${loaded.join(', ') || 'none'}`,
        'lora_name',
      );
    try {
      await generator.backend.changeAdapter('unload', body.lora_name);
    } catch (error) {
      if (error instanceof AdapterChangeError)
        throw new ApiError(error.inUse ? 409 : 422, error.inUse ? 'adapter_in_use' : 'validation', error.message, 'lora_name');
      throw error;
    }
    loaded.splice(loaded.indexOf(body.lora_name), 1);
    return answer(body.lora_name, false);
  });
}
