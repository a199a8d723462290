// --prometheus-port: a second listener that serves only GET /metrics, as TGI does, for scrapers
// kept apart from the API port. Same registry and the same --metrics-api-key rule.
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAuth } from './auth.js';
import { registerNotFound } from './not-found.js';
import type { Generator } from './generator.js';
import { registerMetricsRoute } from './routes/operations.js';

export async function buildMetricsApp(generator: Generator, metricsApiKeys: readonly string[]): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerAuth(app, { apiKeys: [], metricsApiKeys });
  registerNotFound(app);
  registerMetricsRoute(app, generator);
  await app.ready();
  return app;
}
