// POST /invocations (SageMaker): the body's shape picks the route: `inputs` -> POST /,
// `messages` -> chat completions, `prompt` -> completions.
import type { FastifyInstance } from 'fastify';
import { BodyShapeError } from '../../api/parse.js';
import type { ErrorFamily } from '../errors.js';
import type { NativeHandlers } from './native.js';
import type { OpenAiHandlers } from './openai.js';

type Kind = 'native' | 'chat' | 'completions';

function kindOf(body: unknown): Kind | undefined {
  const has = (key: string) => body !== null && typeof body === 'object' && !Array.isArray(body) && key in body;
  if (has('inputs')) return 'native';
  if (has('messages')) return 'chat';
  if (has('prompt')) return 'completions';
  return undefined;
}

/** The error body a SageMaker request gets: OpenAI's for chat and completions bodies. */
function invocationsFamily(body: unknown): ErrorFamily {
  const kind = kindOf(body);
  return kind === 'chat' || kind === 'completions' ? 'openai' : 'native';
}

export function registerInvocationsRoute(app: FastifyInstance, native: NativeHandlers, openai: OpenAiHandlers): void {
  app.post('/invocations', { config: { family: 'native' as const, familyOf: invocationsFamily } }, async (request, reply) => {
    const body = request.body;
    const kind = kindOf(body);
    request.errorFamily = invocationsFamily(body);
    if (kind === 'native') return native.compat(body, request, reply);
    if (kind === 'chat') return openai.chat(body, request, reply);
    if (kind === 'completions') return openai.completions(body, request, reply);
    throw new BodyShapeError(
      'Failed to deserialize the JSON body into the target type: data did not match any variant of untagged enum SagemakerRequest (expected `inputs`, `messages` or `prompt`)',
    );
  });
}
