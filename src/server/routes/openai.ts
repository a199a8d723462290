// The OpenAI-compatible routes: chat completions, completions and the model list.
import type { FastifyInstance } from 'fastify';
import type { ChatPrompter } from '../../chat/prompt.js';
import type { Generator } from '../generator.js';
import type { OpenAiIdentity } from '../openai-common.js';
import type { RouteHandler } from '../lifecycle.js';
import { chatHandler } from './chat.js';
import { completionsHandler } from './completions.js';
import { ApiError } from '../errors.js';
import { unixSeconds } from '../openai-output.js';

export interface OpenAiHandlers {
  chat: RouteHandler;
  completions: RouteHandler;
}

export function registerOpenAiRoutes(
  app: FastifyInstance,
  generator: Generator,
  prompter: ChatPrompter,
  identity: OpenAiIdentity,
  modelCreated: number,
): OpenAiHandlers {
  const base = identity.modelId;
  const chat = chatHandler({ generator, prompter, identity });
  const completions = completionsHandler({ generator, identity });
  const openai = { config: { family: 'openai' as const } };
  app.post('/v1/chat/completions', openai, (request, reply) => chat(request.body, request, reply));
  app.post('/v1/completions', openai, (request, reply) => completions(request.body, request, reply));
  // The served model, then its LoRA adapters (a request's `model` naming one selects it, as in vLLM).
  // `created` is the model file's time; an adapter's, when this server started serving it.
  const started = unixSeconds();
  const models = () => [
    {
      id: base,
      object: 'model' as const,
      created: modelCreated,
      owned_by: base,
      input_modalities: generator.preprocessor.vision ? ['text' as const, 'image' as const] : ['text' as const],
    },
    ...generator.limits.loraAdapters.map((id) => ({ id, object: 'model' as const, created: started, owned_by: base, parent: base })),
  ];
  app.get('/v1/models', openai, async () => ({ object: 'list', data: models() }));
  // A hub model id has a slash in it ("org/name"): the id is the rest of the path.
  app.get('/v1/models/*', openai, async (request) => {
    const id = (request.params as { '*': string })['*'];
    const model = models().find((m) => m.id === id);
    if (!model)
      throw new ApiError(
        404,
        'model_not_found',
        `The model \`${id}\` is not served here (GET /v1/models lists the models served)`,
        'model',
      );
    return model;
  });
  return { chat, completions };
}
