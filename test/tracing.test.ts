// OpenTelemetry tracing (--otlp-endpoint): the real server exports its spans over OTLP/HTTP to a
// receiver the test runs; their names, parents, times, attributes and statuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson, stream } from './helpers/http.js';
import { readSse } from './helpers/sse.js';

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
}

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

function plain(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

const attrs = (span: OtlpSpan): Record<string, unknown> => Object.fromEntries((span.attributes ?? []).map((a) => [a.key, plain(a.value)]));

/** An OTLP/HTTP receiver: collects the spans and resources posted to /v1/traces. */
class Receiver {
  readonly spans: OtlpSpan[] = [];
  readonly serviceNames = new Set<string>();
  readonly contentTypes = new Set<string>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') {
          response.writeHead(404).end();
          return;
        }
        this.contentTypes.add(String(request.headers['content-type']));
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const payload = JSON.parse(body.toString('utf8'));
        for (const resourceSpans of payload.resourceSpans ?? []) {
          for (const a of resourceSpans.resource?.attributes ?? [])
            if (a.key === 'service.name') this.serviceNames.add(String(plain(a.value)));
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) this.spans.push(...(scopeSpans.spans ?? []));
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  children(root: OtlpSpan): OtlpSpan[] {
    return this.spans.filter((s) => s.parentSpanId === root.spanId);
  }

  /** Waits (polling, generous deadline) until `find` finds something in the spans received. */
  async waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(`no ${what} after ${timeoutMs} ms; spans received: ${this.spans.map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A root span with all its children (`expected`: how many). */
  async tree(what: string, isRoot: (span: OtlpSpan) => boolean, expected: number): Promise<{ root: OtlpSpan; children: OtlpSpan[] }> {
    return this.waitFor(what, () => {
      const root = this.spans.find(isRoot);
      if (!root) return undefined;
      const children = this.children(root);
      return children.length >= expected ? { root, children } : undefined;
    });
  }
}

const nanos = (time: string) => BigInt(time);

/** Children of `root` in the same trace, each within it, in this order, one after the other. */
function assertSequential(root: OtlpSpan, children: OtlpSpan[], names: string[]): void {
  assert.deepEqual(
    children.map((c) => c.name),
    names,
  );
  let previousEnd = nanos(root.startTimeUnixNano);
  for (const child of children) {
    assert.equal(child.traceId, root.traceId, child.name);
    assert.equal(child.parentSpanId, root.spanId, child.name);
    assert.ok(nanos(child.startTimeUnixNano) >= previousEnd, `${child.name} starts after what precedes it`);
    assert.ok(nanos(child.endTimeUnixNano) >= nanos(child.startTimeUnixNano), `${child.name} ends after it starts`);
    previousEnd = nanos(child.endTimeUnixNano);
  }
  assert.ok(nanos(root.endTimeUnixNano) >= previousEnd, 'the request span ends last');
}

const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const byStart = (spans: OtlpSpan[]) =>
  [...spans].sort(
    (a, b) =>
      compare(nanos(a.startTimeUnixNano), nanos(b.startTimeUnixNano)) || compare(nanos(a.endTimeUnixNano), nanos(b.endTimeUnixNano)),
  );
const PHASES = ['validation', 'queue', 'prefill', 'decode'];

describe('tracing', () => {
  const receiver = new Receiver();
  let server: RunningServer;
  before(async () => {
    const endpoint = await receiver.listen();
    server = await startServer(['--otlp-endpoint', endpoint, '--otlp-service-name', 'tgi-node-test'], { OTEL_BSP_SCHEDULE_DELAY: '50' });
    assert.equal(server.summary.tracesUrl, `${endpoint}/v1/traces`);
  });
  after(async () => {
    await server?.stop();
    await receiver.close();
  });

  it("a /generate request is a server span under the caller's traceparent, with validation, queue, prefill and decode", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const r = await postJson(
      `${server.url}/generate`,
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 5, details: true } },
      { traceparent: `00-${traceId}-${parentId}-01` },
    );
    assert.equal(r.status, 200);
    const { root, children } = await receiver.tree('generate span', (s) => s.name === 'generate' && s.traceId === traceId, 4);
    assert.equal(root.parentSpanId, parentId);
    assert.equal(root.kind, SPAN_KIND_SERVER);
    assert.notEqual(root.status?.code, STATUS_ERROR);
    assertSequential(root, byStart(children), PHASES);
    const a = attrs(root);
    assert.equal(a['http.request.method'], 'POST');
    assert.equal(a['http.route'], '/generate');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['gen_ai.operation.name'], 'text_completion');
    assert.match(String(a['gen_ai.request.model']), /stories260K/);
    assert.equal(a['gen_ai.response.model'], a['gen_ai.request.model']);
    assert.equal(a['gen_ai.request.max_tokens'], 5);
    assert.equal(a['gen_ai.usage.output_tokens'], r.json.details.generated_tokens);
    assert.equal(a['gen_ai.usage.input_tokens'], Number(r.headers.get('x-prompt-tokens')));
    assert.deepEqual(a['gen_ai.response.finish_reasons'], [r.json.details.finish_reason]);
    // Greedy (no sampling parameter): no temperature, no seed.
    assert.equal(a['gen_ai.request.temperature'], undefined);
    assert.equal(a['gen_ai.request.seed'], undefined);
    const decode = children.find((c) => c.name === 'decode')!;
    assert.equal(attrs(decode)['gen_ai.usage.output_tokens'], r.json.details.generated_tokens);
    assert.ok(receiver.serviceNames.has('tgi-node-test'));
    assert.deepEqual([...receiver.contentTypes], ['application/json']);
  });

  it('a streamed chat completion is a chat_completions span; its usage is the usage chunk', async () => {
    const response = await stream(`${server.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Tell me a story' }],
      max_tokens: 6,
      temperature: 0.7,
      seed: 42,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(response.status, 200);
    const events = await readSse(response);
    const usage = events.find((e) => e.json?.usage)!.json.usage;
    const finishReason = events.map((e) => e.json?.choices?.[0]?.finish_reason).find((f) => f != null);
    const { root, children } = await receiver.tree('chat_completions span', (s) => s.name === 'chat_completions', 4);
    assert.equal(root.parentSpanId || undefined, undefined);
    assertSequential(root, byStart(children), PHASES);
    const a = attrs(root);
    assert.equal(a['http.route'], '/v1/chat/completions');
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['gen_ai.operation.name'], 'chat');
    assert.equal(a['gen_ai.usage.input_tokens'], usage.prompt_tokens);
    assert.equal(a['gen_ai.usage.output_tokens'], usage.completion_tokens);
    assert.equal(a['gen_ai.request.max_tokens'], 6);
    assert.equal(a['gen_ai.request.temperature'], 0.7);
    assert.equal(a['gen_ai.request.seed'], 42);
    // TGI's finish reasons (OpenAI's "stop" is an eos_token or a stop_sequence).
    const reasons = a['gen_ai.response.finish_reasons'] as string[];
    assert.equal(reasons.length, 1);
    if (finishReason === 'length') assert.deepEqual(reasons, ['length']);
    else assert.ok(['eos_token', 'stop_sequence'].includes(reasons[0]), reasons[0]);
  });

  it('a request that fails validation has an ERROR span with the message, and no queue', async () => {
    const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { temperature: -1, max_new_tokens: 5 } });
    assert.equal(r.status, 422);
    const { root, children } = await receiver.tree(
      'failed generate span',
      (s) => s.name === 'generate' && s.status?.code === STATUS_ERROR,
      1,
    );
    assert.equal(root.status?.message, r.json.error);
    const a = attrs(root);
    assert.equal(a['http.response.status_code'], 422);
    assert.equal(a['error.type'], 'validation');
    assert.equal(a['gen_ai.usage.output_tokens'], undefined);
    assert.deepEqual(
      children.map((c) => c.name),
      ['validation'],
    );
    assert.equal(children[0].status?.code, STATUS_ERROR);
  });

  it('several prompts: one queue, prefill and decode per sequence, usage summed as the response sums it', async () => {
    const r = await postJson(`${server.url}/v1/completions`, { prompt: ['Once upon a time', 'Lily'], max_tokens: 4, temperature: 0 });
    assert.equal(r.status, 200);
    const { root, children } = await receiver.tree('completions span', (s) => s.name === 'completions', 7);
    const a = attrs(root);
    assert.equal(a['tgi.sequences'], 2);
    assert.equal(a['gen_ai.usage.input_tokens'], r.json.usage.prompt_tokens);
    assert.equal(a['gen_ai.usage.output_tokens'], r.json.usage.completion_tokens);
    assert.equal((a['gen_ai.response.finish_reasons'] as string[]).length, 2);
    const names = children.map((c) => c.name).sort();
    assert.deepEqual(names, ['decode', 'decode', 'prefill', 'prefill', 'queue', 'queue', 'validation']);
    const prefillTokens = children
      .filter((c) => c.name === 'prefill')
      .reduce((sum, c) => sum + Number(attrs(c)['gen_ai.usage.input_tokens']), 0);
    assert.equal(prefillTokens, r.json.usage.prompt_tokens);
  });

  it('a client that leaves a stream early: the span says so', async () => {
    // node:http rather than fetch: an aborted fetch leaves a second, idle connection that holds up the server's stop.
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest(
        `${server.url}/generate_stream`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: 200 } }));
    });
    const root = await receiver.waitFor('generate_stream span', () => receiver.spans.find((s) => s.name === 'generate_stream'));
    assert.equal(root.status?.code, STATUS_ERROR);
    assert.equal(attrs(root)['error.type'], 'client_disconnected');
  });
});

describe('tracing at shutdown', () => {
  it('SIGTERM exports the spans still buffered', async () => {
    const receiver = new Receiver();
    const endpoint = await receiver.listen();
    // Nothing would be exported for ten minutes but for the shutdown's flush.
    const server = await startServer(['--otlp-endpoint', `${endpoint}/v1/traces`], { OTEL_BSP_SCHEDULE_DELAY: '600000' });
    try {
      const r = await postJson(`${server.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } });
      assert.equal(r.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(receiver.spans.length, 0);
    } finally {
      await server.stop();
    }
    try {
      assert.equal(server.process.exitCode, 0);
      assert.deepEqual(receiver.spans.map((s) => s.name).sort(), ['decode', 'generate', 'prefill', 'queue', 'validation']);
      assert.ok(receiver.serviceNames.has('text-generation-inference.router'));
    } finally {
      await receiver.close();
    }
  });
});
