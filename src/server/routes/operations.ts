// Operational routes: health, info, metrics, and raw tokenization.
import { countedAsync } from '../lifecycle.js';
import { markdownImages } from '../../preprocess/vision.js';
import type { FastifyInstance } from 'fastify';
import { GenerateRequestSchema } from '../../api/native.js';
import { parseBody } from '../../api/parse.js';
import { unhealthyError } from '../errors.js';
import type { Generator } from '../generator.js';
import type { ServerInfo } from '../../api/operations.js';
import { HealthCheck } from '../health.js';

export type { ServerInfo } from '../../api/operations.js';

/** GET /metrics: the Prometheus text of the registry, the engine's state read at the scrape. */
export function registerMetricsRoute(app: FastifyInstance, generator: Generator): void {
  app.get('/metrics', { config: { family: 'native' as const } }, async (_request, reply) => {
    generator.metrics.setSchedulerState(generator.backend.state);
    reply.header('content-type', 'text/plain; charset=utf-8');
    return generator.metrics.registry.metrics();
  });
}

export function registerOperationRoutes(app: FastifyInstance, generator: Generator, info: ServerInfo): void {
  const check = new HealthCheck(generator.backend, Array.from(generator.tokenizer.tokenize('liveness', true)));
  /** 200 with `body` when a decode works, else TGI's 503. */
  const healthRoute = (body: unknown) => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (!(await check.check())) {
      const error = unhealthyError();
      return reply.code(error.status).send(error.toJSON());
    }
    return reply.code(200).send(body);
  };
  const health = healthRoute('');
  const ops = { config: { family: 'native' as const } };
  app.get('/health', ops, health);
  app.get('/ping', ops, health);
  // TGI's root is a health check too: the same statuses, and a body that says where things are.
  const guide = {
    server: 'tgi-node',
    version: info.version,
    model_id: info.model_id,
    docs: '/docs',
    openapi: '/api-doc/openapi.json',
    health: '/health',
    info: '/info',
    metrics: '/metrics',
  };
  app.get('/', ops, healthRoute(guide));

  app.get('/info', ops, async () => info);

  registerMetricsRoute(app, generator);

  app.post('/tokenize', { config: { family: 'native' as const } }, async (request, reply) => {
    const body = parseBody(GenerateRequestSchema, request.body);
    reply.type('application/json');
    const vision = generator.preprocessor.vision;
    // TGI's images in `inputs`: their rows stand where the markdown is.
    if (vision && markdownImages(body.inputs, vision.info.marker).sources.length > 0)
      return countedAsync(generator, () => vision.tokenSpans(generator.preprocessor.tokenizer, body.inputs, true));
    return generator.preprocessor.tokenSpans(body.inputs, true);
  });
}
