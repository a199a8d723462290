// The OpenTelemetry SDK as --otlp-endpoint sets it up: spans batched and exported as OTLP JSON over
// HTTP (not gRPC), under the service's name; W3C trace context for incoming `traceparent` headers.
// Loaded only when the flag is given.
import { diag, DiagLogLevel, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from './attributes.js';

export interface TracingOptions {
  /** An OTLP/HTTP endpoint: a collector's base URL, or the full URL of its traces path. */
  endpoint: string;
  serviceName: string;
  serviceVersion: string;
  /** Where the SDK's own errors go (a failed export, say). */
  warn: (message: string) => void;
}

export interface Tracing {
  tracer: Tracer;
  /** Where the spans go. */
  url: string;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** OTLP's path for traces, appended to an endpoint that has no path of its own. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

export function startTracing(options: TracingOptions): Tracing {
  const noop = () => {};
  const report = (message: string, ...args: unknown[]) => options.warn(`OpenTelemetry: ${[message, ...args.map(String)].join(' ')}`);
  diag.setLogger({ error: report, warn: report, info: noop, debug: noop, verbose: noop }, DiagLogLevel.WARN);
  const url = tracesUrl(options.endpoint);
  const exporter = new OTLPTraceExporter({ url });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: options.serviceVersion }),
    ),
    // Its delay and batch sizes follow the OTEL_BSP_* environment variables.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Global: the request's trace travels with the async context of its handler.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return {
    tracer: provider.getTracer('tgi-node', options.serviceVersion),
    url,
    shutdown: () => provider.shutdown(),
  };
}
