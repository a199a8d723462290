// POST /chat_tokenize: the prompt a chat request renders to, and its tokens.
import type { FastifyInstance } from 'fastify';
import { ChatRequestSchema } from '../../api/openai.js';
import { parseBody } from '../../api/parse.js';
import type { ChatPrompter } from '../../chat/prompt.js';
import type { Generator } from '../generator.js';
import { asApiError } from '../openai-common.js';

export function registerChatTokenizeRoute(app: FastifyInstance, generator: Generator, prompter: ChatPrompter): void {
  app.post('/chat_tokenize', { config: { family: 'native' as const } }, async (request) => {
    generator.metrics.requestCount.inc();
    const body = parseBody(ChatRequestSchema, request.body);
    let text: string;
    try {
      text = prompter.render(body);
    } catch (error) {
      asApiError(error, generator);
    }
    const bytes = Buffer.from(text, 'utf8');
    const tokens = generator.tokenizer.tokenizeWithOffsets(text, false).map((span) => ({
      id: span.id,
      text: bytes.subarray(span.start, span.stop).toString('utf8'),
      start: span.start,
      stop: span.stop,
    }));
    return { tokenize_response: tokens, templated_text: text };
  });
}
