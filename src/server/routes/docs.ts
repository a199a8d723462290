// GET /api-doc/openapi.json (the OpenAPI document) and GET /docs (Swagger UI rendering it, served
// from the swagger-ui-dist package: no CDN).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { notFoundBody } from '../not-found.js';

const require = createRequire(import.meta.url);
const SWAGGER_UI_DIR = (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();

/** The files of Swagger UI the page loads, with their content types. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// Relative addresses, so the page also works behind a proxy that serves the API under a prefix.
const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Text Generation Inference API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: 'api-doc/openapi.json',
      dom_id: '#swagger-ui',
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: 'StandaloneLayout',
    });
  </script>
</body>
</html>
`;

export function registerDocsRoutes(app: FastifyInstance, document: Record<string, unknown>): void {
  const documentJson = JSON.stringify(document);
  const open = { config: { family: 'native' as const } };
  app.get('/api-doc/openapi.json', open, async (_request, reply) => reply.type('application/json').send(documentJson));
  app.get('/docs', open, async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  const cache = new Map<string, Promise<Buffer>>();
  app.get<{ Params: { asset: string } }>('/docs/:asset', open, async (request, reply) => {
    const type = ASSETS[request.params.asset];
    if (!type) return reply.code(404).send(notFoundBody('native', 404, `No asset ${request.params.asset} in /docs`));
    let content = cache.get(request.params.asset);
    if (!content) cache.set(request.params.asset, (content = readFile(join(SWAGGER_UI_DIR, request.params.asset))));
    return reply
      .type(type)
      .header('cache-control', 'public, max-age=86400')
      .send(await content);
  });
}
