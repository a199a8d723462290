// POST /invocations (SageMaker): the body's shape picks the route: `inputs` -> POST /,
// `messages` -> chat completions, `prompt` -> completions.
import type { FastifyInstance } from 'fastify';
import { BodyShapeError } from '../../api/parse.js';
import type { NativeHandlers } from './native.js';
import type { OpenAiHandlers } from './openai.js';

export function registerInvocationsRoute(app: FastifyInstance, native: NativeHandlers, openai: OpenAiHandlers): void {
  app.post('/invocations', { config: { family: 'native' as const } }, async (request, reply) => {
    const body = request.body;
    const has = (key: string) => body !== null && typeof body === 'object' && !Array.isArray(body) && key in body;
    if (has('inputs')) return native.compat(body, request, reply);
    request.errorFamily = 'openai';
    if (has('messages')) return openai.chat(body, request, reply);
    if (has('prompt')) return openai.completions(body, request, reply);
    request.errorFamily = 'native';
    throw new BodyShapeError('Failed to deserialize the JSON body into the target type: data did not match any variant of untagged enum SagemakerRequest (expected `inputs`, `messages` or `prompt`)');
  });
}
