// One traced request: its span (opened when the request arrives, ended when its response is), the
// `validation` span up to the first submission to the engine, and for each finished sequence its
// `queue`, `prefill` and `decode` spans, made after the fact from the engine's timestamps.
//
// Times are epoch milliseconds of the monotonic clock (performance.timeOrigin + performance.now(),
// as the engine thread stamps them). They are put on the wall clock with one offset per request,
// so that the request's spans line up with each other and with the caller's.
import {
  context,
  createContextKey,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_TGI_SEQUENCES,
  SPAN_DECODE,
  SPAN_PREFILL,
  SPAN_QUEUE,
  SPAN_VALIDATION,
} from './attributes.js';

export const monotonicNow = () => performance.timeOrigin + performance.now();

const TRACE_KEY = createContextKey('tgi-node request trace');

/** The trace of the request whose handler is running, if it is traced. */
export function currentRequestTrace(): RequestTrace | undefined {
  return context.active().getValue(TRACE_KEY) as RequestTrace | undefined;
}

export interface RequestSpanOptions {
  name: string;
  /** The caller's trace context (from `traceparent`), or the root context. */
  parent: Context;
  attributes: Attributes;
}

/** What the request's body says. */
export interface RequestDescription {
  operation: string;
  requestModel: string;
  /** The model its response names. */
  responseModel: string;
}

export interface SubmittedSequence {
  /** The prompt's identity: the choices or best_of candidates of one prompt share it, and its tokens count once. */
  prompt: object;
  inputTokens: number;
  maxTokens: number;
  /** Absent when tokens are chosen greedily. */
  sampling?: { temperature: number; topP?: number; topK?: number; seed: bigint };
}

export interface FinishedSequence {
  /** When the batch that admitted it started. */
  startedAt: number;
  firstTokenAt: number;
  finishedAt: number;
  inputTokens: number;
  outputTokens: number;
  finishReason: string;
}

export interface ResponseEnd {
  /** Absent when no status line was sent. */
  statusCode?: number;
  /** The connection closed before the whole response was written. */
  clientGone: boolean;
}

/** A u64 seed: a number while one holds it exactly, else its decimal string. */
function seedValue(seed: bigint): number | string {
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed.toString();
}

export class RequestTrace {
  /** The caller's context with the request's span and this trace: the handler runs in it. */
  readonly context: Context;
  private readonly root: Span;
  private readonly wallOffset = Date.now() - monotonicNow();
  private validation: Span | undefined;
  private submittedAt: number | undefined;
  private responseModel: string | undefined;
  private readonly prompts = new Set<object>();
  private inputTokens = 0;
  private outputTokens = 0;
  private sequences = 0;
  /** The latest end of a child span: the request's span ends no earlier (the engine thread's clock may read a hair ahead). */
  private latest = 0;
  private readonly finishReasons: string[] = [];
  private failed = false;
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    options: RequestSpanOptions,
  ) {
    const startTime = this.wall(monotonicNow());
    this.root = tracer.startSpan(options.name, { kind: SpanKind.SERVER, startTime, attributes: options.attributes }, options.parent);
    const withRoot = trace.setSpan(options.parent, this.root);
    this.context = withRoot.setValue(TRACE_KEY, this);
    // Validation covers the body's parsing too: it starts with the request.
    this.validation = tracer.startSpan(SPAN_VALIDATION, { startTime }, withRoot);
  }

  describe(description: RequestDescription): void {
    this.root.setAttributes({ [ATTR_GEN_AI_OPERATION_NAME]: description.operation, [ATTR_GEN_AI_REQUEST_MODEL]: description.requestModel });
    this.responseModel = description.responseModel;
  }

  /** A sequence went to the engine; the first one ends validation and gives the request's parameters. */
  submitted(sequence: SubmittedSequence): void {
    if (this.ended) return;
    if (this.submittedAt === undefined) {
      this.submittedAt = monotonicNow();
      this.endValidation(this.submittedAt);
      const attributes: Attributes = { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: sequence.maxTokens };
      const sampling = sequence.sampling;
      if (sampling) {
        attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = sampling.temperature;
        if (sampling.topP !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_P] = sampling.topP;
        if (sampling.topK !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_K] = sampling.topK;
        attributes[ATTR_GEN_AI_REQUEST_SEED] = seedValue(sampling.seed);
      }
      this.root.setAttributes(attributes);
    }
    this.sequences++;
    if (!this.prompts.has(sequence.prompt)) {
      this.prompts.add(sequence.prompt);
      this.inputTokens += sequence.inputTokens;
    }
  }

  /** A sequence finished: its queue, prefill and decode spans, each clamped to start where the previous ended. */
  sequenceFinished(sequence: FinishedSequence): void {
    if (this.ended) return;
    const queued = this.submittedAt ?? sequence.startedAt;
    const started = Math.max(queued, sequence.startedAt);
    const firstToken = Math.max(started, sequence.firstTokenAt);
    const finished = Math.max(firstToken, sequence.finishedAt);
    this.child(SPAN_QUEUE, queued, started, {});
    this.child(SPAN_PREFILL, started, firstToken, { [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: sequence.inputTokens });
    this.child(SPAN_DECODE, firstToken, finished, {
      [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: sequence.outputTokens,
      [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [sequence.finishReason],
    });
    this.outputTokens += sequence.outputTokens;
    this.finishReasons.push(sequence.finishReason);
  }

  /** The request failed (the first failure is the one recorded). */
  fail(message: string, errorType: string): void {
    if (this.failed || this.ended) return;
    this.failed = true;
    this.root.setStatus({ code: SpanStatusCode.ERROR, message });
    this.root.setAttribute(ATTR_ERROR_TYPE, errorType);
    // Still validating: the failure is validation's.
    this.validation?.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  end(response: ResponseEnd): void {
    if (this.ended) return;
    const at = Math.max(monotonicNow(), this.latest);
    if (response.clientGone) this.fail('the client disconnected before the response was complete', 'client_disconnected');
    else if (response.statusCode !== undefined && response.statusCode >= 400)
      this.fail(`HTTP ${response.statusCode}`, String(response.statusCode));
    this.endValidation(at);
    const attributes: Attributes = {};
    if (response.statusCode !== undefined) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = response.statusCode;
    if (this.submittedAt !== undefined) attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = this.inputTokens;
    if (this.sequences > 1) attributes[ATTR_TGI_SEQUENCES] = this.sequences;
    if (this.finishReasons.length > 0) {
      attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = this.outputTokens;
      attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = this.finishReasons;
      if (this.responseModel !== undefined) attributes[ATTR_GEN_AI_RESPONSE_MODEL] = this.responseModel;
    }
    this.root.setAttributes(attributes);
    this.ended = true;
    this.root.end(this.wall(at));
  }

  private endValidation(at: number): void {
    this.validation?.end(this.wall(at));
    this.validation = undefined;
  }

  private child(name: string, start: number, end: number, attributes: Attributes): void {
    this.tracer.startSpan(name, { startTime: this.wall(start), attributes }, this.context).end(this.wall(end));
    this.latest = Math.max(this.latest, end);
  }

  /** Epoch milliseconds of the wall clock. */
  private wall(monotonic: number): number {
    return monotonic + this.wallOffset;
  }
}
