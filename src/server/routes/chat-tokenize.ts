// POST /chat_tokenize: the prompt a chat request renders to, and its tokens.
import type { FastifyInstance } from 'fastify';
import { ChatRequestSchema } from '../../api/openai.js';
import { parseBody } from '../../api/parse.js';
import type { Generator } from '../generator.js';
import { countedAsync } from '../lifecycle.js';

export function registerChatTokenizeRoute(app: FastifyInstance, generator: Generator): void {
  app.post('/chat_tokenize', { config: { family: 'native' as const } }, async (request, reply) => {
    generator.metrics.requestCount.inc();
    const body = parseBody(ChatRequestSchema, request.body);
    const text = await countedAsync(generator, () => generator.preprocessor.render(body));
    const tokens = await generator.preprocessor.tokenSpans(text, false);
    reply.type('application/json');
    return `{"tokenize_response":${tokens},"templated_text":${JSON.stringify(text)}}`;
  });
}
