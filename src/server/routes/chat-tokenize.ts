// POST /chat_tokenize: the prompt a chat request renders to, and its tokens.
import type { FastifyInstance } from 'fastify';
import { ChatRequestSchema } from '../../api/openai.js';
import { parseBody } from '../../api/parse.js';
import type { Generator } from '../generator.js';
import { countedAsync } from '../lifecycle.js';
import { imageParts } from '../../chat/messages.js';

export function registerChatTokenizeRoute(app: FastifyInstance, generator: Generator): void {
  app.post('/chat_tokenize', { config: { family: 'native' as const } }, async (request, reply) => {
    generator.metrics.requestCount.inc();
    const body = parseBody(ChatRequestSchema, request.body);
    const text = await countedAsync(generator, () => generator.preprocessor.render(body));
    const vision = generator.preprocessor.vision;
    const images = vision ? imageParts(body.messages) : [];
    // With images, their rows stand where the encoder's marker is in the templated text.
    const tokens =
      vision && images.length > 0
        ? await countedAsync(generator, () => vision.tokenSpans(generator.preprocessor.tokenizer, text, false, images))
        : await generator.preprocessor.tokenSpans(text, false);
    reply.type('application/json');
    return `{"tokenize_response":${tokens},"templated_text":${JSON.stringify(text)}}`;
  });
}
