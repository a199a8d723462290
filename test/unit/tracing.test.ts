// The tracing pieces without a server: the OTLP URL, the attribute names, a request's spans.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import * as ours from '../../src/tracing/attributes.js';
import { tracesUrl } from '../../src/tracing/provider.js';
import { monotonicNow, RequestTrace } from '../../src/tracing/request-trace.js';

function tracer() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracer: provider.getTracer('test'), spans: () => exporter.getFinishedSpans() };
}

const millis = (span: ReadableSpan, which: 'startTime' | 'endTime') => span[which][0] * 1000 + span[which][1] / 1e6;

describe('tracing', () => {
  it('an endpoint without a path gets /v1/traces; one with a path is used as it is', () => {
    assert.equal(tracesUrl('http://collector:4318'), 'http://collector:4318/v1/traces');
    assert.equal(tracesUrl('http://collector:4318/'), 'http://collector:4318/v1/traces');
    assert.equal(tracesUrl('https://otel.example.com/custom/traces'), 'https://otel.example.com/custom/traces');
  });

  it("the attribute names are the semantic conventions'", () => {
    const names = ours as Record<string, unknown>;
    // The incubating entry point re-exports the stable names.
    const theirs = incubating as Record<string, unknown>;
    const copied = Object.keys(names).filter(
      (name) => (name.startsWith('ATTR_') && !name.startsWith('ATTR_TGI_')) || name.startsWith('GEN_AI_'),
    );
    assert.ok(copied.length >= 19);
    for (const name of copied) assert.equal(names[name], theirs[name], name);
  });

  it('the choices of one prompt count its tokens once; each sequence has its queue, prefill and decode, in order', () => {
    const { tracer: t, spans } = tracer();
    const trace = new RequestTrace(t, { name: 'chat_completions', parent: ROOT_CONTEXT, attributes: {} });
    const prompt = [1, 2, 3];
    for (let i = 0; i < 2; i++) trace.submitted({ prompt, inputTokens: 3, maxTokens: 8, sampling: { temperature: 0.5, seed: 2n ** 63n } });
    const t0 = monotonicNow();
    trace.sequenceFinished({
      startedAt: t0 + 1,
      firstTokenAt: t0 + 2,
      finishedAt: t0 + 3,
      inputTokens: 3,
      outputTokens: 4,
      finishReason: 'length',
    });
    // The engine's clock reads before the submission, and past now: clamped into order and into the request's span.
    trace.sequenceFinished({
      startedAt: t0 - 5,
      firstTokenAt: t0 + 1,
      finishedAt: t0 + 50,
      inputTokens: 3,
      outputTokens: 2,
      finishReason: 'eos_token',
    });
    trace.end({ statusCode: 200, clientGone: false });
    const all = spans();
    const root = all.find((s) => s.name === 'chat_completions')!;
    assert.equal(root.attributes['gen_ai.usage.input_tokens'], 3);
    assert.equal(root.attributes['gen_ai.usage.output_tokens'], 6);
    assert.deepEqual(root.attributes['gen_ai.response.finish_reasons'], ['length', 'eos_token']);
    assert.equal(root.attributes['tgi.sequences'], 2);
    assert.equal(root.attributes['gen_ai.request.seed'], '9223372036854775808');
    assert.equal(root.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(all.map((s) => s.name).sort(), [
      'chat_completions',
      'decode',
      'decode',
      'prefill',
      'prefill',
      'queue',
      'queue',
      'validation',
    ]);
    for (const span of all.filter((s) => s !== root)) {
      assert.equal(span.parentSpanContext?.spanId, root.spanContext().spanId);
      assert.ok(millis(span, 'endTime') >= millis(span, 'startTime'), span.name);
      assert.ok(millis(span, 'startTime') >= millis(root, 'startTime') && millis(span, 'endTime') <= millis(root, 'endTime'), span.name);
    }
  });

  it('a failure is the first one recorded; a request refused before submission has its validation span failed', () => {
    const { tracer: t, spans } = tracer();
    const trace = new RequestTrace(t, { name: 'generate', parent: ROOT_CONTEXT, attributes: {} });
    trace.fail('Input validation error: `temperature` must be strictly positive', 'validation');
    trace.end({ statusCode: 422, clientGone: false });
    const root = spans().find((s) => s.name === 'generate')!;
    const validation = spans().find((s) => s.name === 'validation')!;
    assert.deepEqual(root.status, {
      code: SpanStatusCode.ERROR,
      message: 'Input validation error: `temperature` must be strictly positive',
    });
    assert.equal(root.attributes['error.type'], 'validation');
    assert.equal(root.attributes['http.response.status_code'], 422);
    assert.equal(validation.status.code, SpanStatusCode.ERROR);
    assert.equal(root.attributes['gen_ai.usage.input_tokens'], undefined);
  });
});
