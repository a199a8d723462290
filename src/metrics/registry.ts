// Prometheus metrics with TGI's names (no _total suffix), one registry per server.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SchedulerState, StepRecord } from '../scheduler/scheduler.js';

const DURATION_BUCKETS = Array.from({ length: 35 }, (_, k) => Number((0.0001 * 1.5 ** (k + 1)).toPrecision(6)));

function linearBuckets(max: number): number[] {
  const step = Math.max(1, max / 100);
  return Array.from({ length: 100 }, (_, k) => Math.round(step * (k + 1) * 1000) / 1000);
}

const BATCH_SIZE_BUCKETS = Array.from({ length: 1024 }, (_, k) => k + 1);

type StepMethod = StepRecord['method'];

type CountedTotal = 'reusedPromptTokens' | 'prefilledTokens' | 'prefixCacheHits' | 'relayouts';

export type FailureKind = 'validation' | 'overloaded' | 'generation' | 'incomplete' | 'template' | 'dropped';

export class Metrics {
  readonly registry = new Registry();
  readonly requestCount: Counter;
  readonly requestSuccess: Counter;
  readonly requestFailure: Counter<'err'>;
  readonly requestDuration: Histogram;
  readonly validationDuration: Histogram;
  readonly queueDuration: Histogram;
  readonly inferenceDuration: Histogram;
  readonly timePerToken: Histogram;
  readonly generatedTokens: Histogram;
  readonly inputLength: Histogram;
  readonly maxNewTokens: Histogram;
  readonly queueSize: Gauge;
  readonly batchSize: Gauge;
  readonly batchReservedTokens: Gauge;
  readonly batchMaxTotalTokens: Gauge;
  readonly prefixReusedTokens: Counter;
  readonly prefilledTokens: Counter;
  readonly prefixCacheHits: Counter;
  readonly batchNextSize: Histogram;
  readonly batchInferenceCount: Counter<'method'>;
  readonly batchInferenceSuccess: Counter<'method'>;
  readonly batchInferenceFailure: Counter<'method'>;
  readonly batchInferenceDuration: Histogram<'method'>;
  readonly batchForwardDuration: Histogram<'method'>;
  readonly batchDecodeDuration: Histogram<'method'>;
  readonly batchFilterDuration: Histogram<'method'>;
  readonly batchConcat: Counter<'reason'>;
  readonly kvUsedCells: Gauge;
  readonly kvTotalCells: Gauge;
  readonly kvUsage: Gauge;
  readonly kvStreams: Gauge;
  readonly kvStreamCells: Gauge;
  readonly kvRelayouts: Counter;
  readonly responseCacheHits: Counter;
  readonly responseCacheMisses: Counter;
  /** What the response cache holds now, in bytes (none: 0). */
  responseCacheBytes: () => number = () => 0;
  readonly adapterRequests: Counter<'adapter'>;
  readonly adapterRunning: Gauge<'adapter'>;
  readonly adapterWaiting: Gauge<'adapter'>;
  readonly loraInfo: Gauge<'max_lora' | 'running_lora_adapters' | 'waiting_lora_adapters'>;
  private readonly adapters: readonly string[];
  /** The engine's totals as last read (see advance). */
  private readonly totalsSeen: Record<CountedTotal, number> = {
    reusedPromptTokens: 0,
    prefilledTokens: 0,
    prefixCacheHits: 0,
    relayouts: 0,
  };
  private readonly eventLoopDelay: IntervalHistogram;

  constructor(limits: { maxInputTokens: number; maxTotalTokens: number; maxBatchTotalTokens: number; loraAdapters?: readonly string[] }) {
    const registers = [this.registry];
    this.adapters = limits.loraAdapters ?? [];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    const duration = (name: string, help: string) => new Histogram({ name, help, buckets: DURATION_BUCKETS, registers });
    this.requestCount = counter('tgi_request_count', 'Total number of requests');
    this.requestSuccess = counter('tgi_request_success', 'Number of successful requests');
    this.requestFailure = new Counter({ name: 'tgi_request_failure', help: 'Number of failed requests', labelNames: ['err'], registers });
    this.requestDuration = duration('tgi_request_duration', 'Request duration in seconds');
    this.validationDuration = duration('tgi_request_validation_duration', 'Request validation duration in seconds');
    this.queueDuration = duration('tgi_request_queue_duration', 'Request queue duration in seconds');
    this.inferenceDuration = duration('tgi_request_inference_duration', 'Request inference duration in seconds');
    this.timePerToken = duration('tgi_request_mean_time_per_token_duration', 'Mean time per generated token in seconds');
    this.generatedTokens = new Histogram({
      name: 'tgi_request_generated_tokens',
      help: 'Generated tokens per request',
      buckets: linearBuckets(limits.maxTotalTokens),
      registers,
    });
    this.inputLength = new Histogram({
      name: 'tgi_request_input_length',
      help: 'Input tokens per request',
      buckets: linearBuckets(limits.maxInputTokens),
      registers,
    });
    this.maxNewTokens = new Histogram({
      name: 'tgi_request_max_new_tokens',
      help: 'Maximum new tokens per request',
      buckets: linearBuckets(limits.maxTotalTokens),
      registers,
    });
    this.queueSize = new Gauge({ name: 'tgi_queue_size', help: 'Current queue size', registers });
    this.batchSize = new Gauge({ name: 'tgi_batch_current_size', help: 'Current batch size', registers });
    this.batchReservedTokens = new Gauge({
      name: 'tgi_batch_current_max_tokens',
      help: 'KV tokens reserved by the running batch',
      registers,
    });
    this.batchMaxTotalTokens = new Gauge({ name: 'tgi_batch_max_total_tokens', help: 'Maximum KV tokens of a batch', registers });
    this.batchMaxTotalTokens.set(limits.maxBatchTotalTokens);
    // Totals since start the engine keeps: counters, advanced by what they grew between two scrapes.
    this.prefixReusedTokens = counter(
      'tgi_prefix_cache_reused_tokens',
      'Prompt tokens served from cached KV cells instead of being recomputed, since start',
    );
    this.prefilledTokens = counter('tgi_prefill_tokens', 'Prompt tokens computed, since start');
    this.prefixCacheHits = counter(
      'tgi_prefix_cache_hits',
      'Requests that started from cached KV cells of an earlier or running prompt, since start',
    );
    // TGI's step metrics. A step is `prefill` when it computes prompt tokens (chunked prefill: with
    // the running sequences' decodes in the same pass), `decode` otherwise.
    const byMethod = (name: string, help: string) => new Counter({ name, help, labelNames: ['method'], registers });
    const durationByMethod = (name: string, help: string) =>
      new Histogram({ name, help, labelNames: ['method'], buckets: DURATION_BUCKETS, registers });
    this.batchNextSize = new Histogram({
      name: 'tgi_batch_next_size',
      help: 'Requests admitted into the running batch at a step',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.batchInferenceCount = byMethod('tgi_batch_inference_count', 'Engine steps');
    this.batchInferenceSuccess = byMethod('tgi_batch_inference_success', 'Engine steps that succeeded');
    this.batchInferenceFailure = byMethod('tgi_batch_inference_failure', 'Engine steps that failed');
    this.batchInferenceDuration = durationByMethod(
      'tgi_batch_inference_duration',
      'Whole engine step in seconds: planning, forward pass, token choice',
    );
    this.batchForwardDuration = durationByMethod('tgi_batch_forward_duration', 'Model forward pass (llama_decode) of a step in seconds');
    this.batchDecodeDuration = durationByMethod('tgi_batch_decode_duration', 'Token choice and detokenization of a step in seconds');
    this.batchFilterDuration = durationByMethod('tgi_batch_filter_duration', 'Freeing the requests a step finished, in seconds');
    // Requests join a running batch at any step (continuous batching with chunked prefill): TGI's `chunking` reason.
    this.batchConcat = new Counter({
      name: 'tgi_batch_concat',
      help: 'Steps at which new requests joined a running batch, by reason',
      labelNames: ['reason'],
      registers,
    });
    // What routers and autoscalers read beside the queue (tgi_queue_size) and batch (tgi_batch_current_size) sizes.
    this.kvUsedCells = new Gauge({
      name: 'tgi_kv_cache_used_cells',
      help: 'KV cache cells holding the tokens of running requests',
      registers,
    });
    this.kvTotalCells = new Gauge({
      name: 'tgi_kv_cache_total_cells',
      help: 'KV cache cells of the pool the running requests share',
      registers,
    });
    this.kvUsage = new Gauge({
      name: 'tgi_kv_cache_usage_ratio',
      help: 'Share of the KV cache cells in use by running requests (0 to 1)',
      registers,
    });
    this.kvStreams = new Gauge({
      name: 'tgi_kv_cache_streams',
      help: 'Sequence streams the KV pool is divided into now: the most requests that can run at once',
      registers,
    });
    this.kvStreamCells = new Gauge({
      name: 'tgi_kv_cache_stream_cells',
      help: 'KV cells of each sequence stream now: the most tokens a request admitted now may reserve',
      registers,
    });
    this.kvRelayouts = counter('tgi_kv_cache_relayout_count', 'Times the KV pool was divided anew, since start');
    // The response cache: requests of its routes answered from it, the others, and its size.
    this.responseCacheHits = counter('tgi_response_cache_hits', 'Requests answered from the response cache');
    this.responseCacheMisses = counter(
      'tgi_response_cache_misses',
      'Requests to cached routes not answered from the response cache (x-use-cache: false included)',
    );
    const cacheBytes = () => this.responseCacheBytes();
    new Gauge({
      name: 'tgi_response_cache_bytes',
      help: 'Bytes of the responses the response cache holds',
      registers,
      collect() {
        this.set(cacheBytes());
      },
    });
    // LoRA adapters: requests per adapter, and what a router reads to send a request where its adapter runs.
    this.adapterRequests = new Counter({
      name: 'tgi_adapter_request_count',
      help: 'Generation requests (sequences) per LoRA adapter',
      labelNames: ['adapter'],
      registers,
    });
    this.adapterRunning = new Gauge({
      name: 'tgi_adapter_running_requests',
      help: 'Running requests per LoRA adapter',
      labelNames: ['adapter'],
      registers,
    });
    this.adapterWaiting = new Gauge({
      name: 'tgi_adapter_waiting_requests',
      help: 'Waiting requests per LoRA adapter',
      labelNames: ['adapter'],
      registers,
    });
    this.loraInfo = new Gauge({
      name: 'tgi_lora_requests_info',
      help: "LoRA adapters running and waiting now (labels, as vLLM's vllm:lora_requests_info); the value is the time of the scrape",
      labelNames: ['max_lora', 'running_lora_adapters', 'waiting_lora_adapters'],
      registers,
    });
    // prom-client's process and Node.js metrics: CPU, memory, file descriptors, event loop lag, GC, heap.
    collectDefaultMetrics({ register: this.registry });
    // Delay of the HTTP event loop between two scrapes: how promptly requests are answered under load.
    this.eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.eventLoopDelay.enable();
    const delay = this.eventLoopDelay;
    new Gauge({
      name: 'tgi_event_loop_delay_seconds',
      help: 'HTTP event loop delay since the previous scrape',
      labelNames: ['quantile'],
      registers,
      collect() {
        for (const q of [50, 99]) this.set({ quantile: String(q / 100) }, delay.count > 0 ? delay.percentile(q) / 1e9 : 0);
        this.set({ quantile: '1' }, delay.count > 0 ? delay.max / 1e9 : 0);
        delay.reset();
      },
    });
  }

  /** A request answered from the response cache: served (count, success), but no work to time. */
  cacheHit(): void {
    this.requestCount.inc();
    this.requestSuccess.inc();
    this.responseCacheHits.inc();
  }

  fail(kind: FailureKind): void {
    this.requestFailure.inc({ err: kind });
  }

  /** The engine's steps since its last report. */
  recordSteps(steps: readonly StepRecord[]): void {
    for (const step of steps) {
      const method: { method: StepMethod } = { method: step.method };
      this.batchInferenceCount.inc(method);
      (step.ok ? this.batchInferenceSuccess : this.batchInferenceFailure).inc(method);
      this.batchInferenceDuration.observe(method, step.total);
      this.batchForwardDuration.observe(method, step.forward);
      if (step.ok) {
        this.batchDecodeDuration.observe(method, step.choice);
        this.batchFilterDuration.observe(method, step.filter);
      }
      if (step.joinedRunning) this.batchConcat.inc({ reason: 'chunking' });
      if (step.admitted > 0) this.batchNextSize.observe(step.admitted);
    }
  }

  /** A counter of an engine total: increased by what the total grew since it was last read. */
  private advance(counter: Counter, total: CountedTotal, value: number): void {
    const grown = value - this.totalsSeen[total];
    if (grown > 0) counter.inc(grown);
    this.totalsSeen[total] = value;
  }

  setSchedulerState(state: SchedulerState): void {
    this.queueSize.set(state.waiting);
    this.batchSize.set(state.running);
    this.batchReservedTokens.set(state.reservedTokens);
    this.advance(this.prefixReusedTokens, 'reusedPromptTokens', state.reusedPromptTokens);
    this.advance(this.prefilledTokens, 'prefilledTokens', state.prefilledTokens);
    this.advance(this.prefixCacheHits, 'prefixCacheHits', state.prefixCacheHits);
    this.kvUsedCells.set(state.usedCells);
    this.kvTotalCells.set(state.totalCells);
    this.kvUsage.set(state.totalCells > 0 ? state.usedCells / state.totalCells : 0);
    this.kvStreams.set(state.layout.sequences);
    this.kvStreamCells.set(state.layout.sequenceCells);
    this.advance(this.kvRelayouts, 'relayouts', state.relayouts);
    // The adapters loaded now (runtime loading changes the list): an unloaded one's series go.
    this.adapterRunning.reset();
    this.adapterWaiting.reset();
    this.loraInfo.reset();
    if (this.adapters.length > 0) {
      for (const adapter of this.adapters) {
        this.adapterRunning.set({ adapter }, state.adapters.running[adapter] ?? 0);
        this.adapterWaiting.set({ adapter }, state.adapters.waiting[adapter] ?? 0);
      }
      this.loraInfo.set(
        {
          max_lora: String(this.adapters.length),
          running_lora_adapters: Object.keys(state.adapters.running).sort().join(','),
          waiting_lora_adapters: Object.keys(state.adapters.waiting).sort().join(','),
        },
        Date.now() / 1000,
      );
    }
  }
}
