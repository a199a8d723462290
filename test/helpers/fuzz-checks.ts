// What every answer of the fuzz test must be: never a 5xx; an error carries its route family's
// body; a success has the route's shape, streamed or not; no logprob is null
// (a NaN or infinite logprob becomes null in JSON).
import type { BodyKind, FuzzRequest } from './fuzz-bodies.js';

export type Family = 'native' | 'openai';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export interface Problem {
  /** The failure class: the same defect gives the same class whatever the body. */
  kind: string;
  detail: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown) => Number.isInteger(v);

function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** How the server reads the body: its family (for /invocations) and whether it streams. */
export interface Expectation {
  family: Family;
  /** The kind of body the route serves it as (/invocations decides by key). */
  kind: BodyKind;
  stream: boolean;
  echo: boolean;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i;

export function expectationOf(request: FuzzRequest): Expectation {
  const body = request.contentType !== null && JSON_TYPE.test(request.contentType) ? parsed(request.text) : { ok: false as const };
  const value = body.ok && isObject(body.value) ? body.value : undefined;
  const has = (key: string) => value !== undefined && key in value;
  let kind: BodyKind = request.kind;
  let family: Family = request.route.startsWith('/v1/') ? 'openai' : 'native';
  if (request.route === '/invocations') {
    kind = has('inputs') ? 'generate' : has('messages') ? 'chat' : has('prompt') ? 'completion' : 'generate';
    family = kind === 'generate' ? 'native' : 'openai';
  }
  const streams =
    request.route === '/generate_stream' ||
    (['/', '/invocations', '/v1/chat/completions', '/v1/completions'].includes(request.route) && value?.stream === true);
  return { family, kind, stream: streams, echo: value?.echo === true };
}

/** An error sent inside a 200 stream that says the server failed (the in-band form of a 500). */
function inBandServerError(event: Record<string, unknown>, route: string): Problem[] {
  const error = event.error;
  const type = isObject(error) ? `${error.type}/${error.code}` : String(event.error_type);
  const failed = /internal|incomplete|server_error/.test(type);
  return failed ? [{ kind: 'in-band server error', detail: `${route}: ${JSON.stringify(event).slice(0, 200)}` }] : [];
}

export function errorBodyProblems(family: Family, body: unknown, where: string): Problem[] {
  const wrong = (detail: string): Problem[] => [{ kind: `${family} error body`, detail: `${where}: ${detail}` }];
  if (!isObject(body)) return wrong('not a JSON object');
  if (family === 'native') {
    if (typeof body.error !== 'string' || typeof body.error_type !== 'string')
      return wrong('needs {"error": string, "error_type": string}');
    const extra = Object.keys(body).filter((k) => k !== 'error' && k !== 'error_type');
    return extra.length > 0 ? wrong(`unexpected keys ${extra.join(', ')}`) : [];
  }
  const error = body.error;
  if (!isObject(error)) return wrong('needs {"error": {...}}');
  const fieldsOk =
    typeof error.message === 'string' &&
    typeof error.type === 'string' &&
    (error.param === null || typeof error.param === 'string') &&
    (error.code === null || typeof error.code === 'string') &&
    'param' in error &&
    'code' in error;
  if (!fieldsOk) return wrong('needs {"error": {"message": string, "type": string, "param": string|null, "code": string|null}}');
  const extra = Object.keys(body).filter((k) => k !== 'error');
  return extra.length > 0 ? wrong(`unexpected keys ${extra.join(', ')}`) : [];
}

/** Checks a value's shape with paths in the messages; indices are written [i] so classes merge. */
class Shape {
  readonly problems: Problem[] = [];
  constructor(private readonly kind: string) {}
  check(ok: boolean, path: string, what: string): boolean {
    if (!ok) this.problems.push({ kind: this.kind, detail: `${path.replace(/\[\d+\]/g, '[i]')}: ${what}` });
    return ok;
  }
}

function tokenShape(s: Shape, t: unknown, path: string, needsSpecial: boolean): void {
  if (!s.check(isObject(t), path, 'a token object')) return;
  const token = t as Record<string, unknown>;
  s.check(isInt(token.id), `${path}.id`, 'an integer');
  s.check(typeof token.text === 'string', `${path}.text`, 'a string');
  if (needsSpecial) s.check(typeof token.special === 'boolean', `${path}.special`, 'a boolean');
}

function detailsShape(s: Shape, d: unknown, path: string): void {
  if (!s.check(isObject(d), path, 'an object')) return;
  const details = d as Record<string, unknown>;
  s.check(typeof details.finish_reason === 'string', `${path}.finish_reason`, 'a string');
  s.check(isInt(details.generated_tokens), `${path}.generated_tokens`, 'an integer');
  s.check(details.seed === null || isInt(details.seed), `${path}.seed`, 'an integer or null');
  if (s.check(Array.isArray(details.prefill), `${path}.prefill`, 'an array'))
    (details.prefill as unknown[]).forEach((t, i) => tokenShape(s, t, `${path}.prefill[${i}]`, false));
  if (s.check(Array.isArray(details.tokens), `${path}.tokens`, 'an array'))
    (details.tokens as unknown[]).forEach((t, i) => tokenShape(s, t, `${path}.tokens[${i}]`, true));
  if (details.top_tokens !== undefined && s.check(Array.isArray(details.top_tokens), `${path}.top_tokens`, 'an array')) {
    (details.top_tokens as unknown[]).forEach((step, i) => {
      if (s.check(Array.isArray(step), `${path}.top_tokens[${i}]`, 'an array'))
        (step as unknown[]).forEach((t, k) => tokenShape(s, t, `${path}.top_tokens[${i}][${k}]`, true));
    });
  }
  if (
    details.best_of_sequences !== undefined &&
    s.check(Array.isArray(details.best_of_sequences), `${path}.best_of_sequences`, 'an array')
  ) {
    (details.best_of_sequences as unknown[]).forEach((seq, i) => {
      s.check(isObject(seq) && typeof seq.generated_text === 'string', `${path}.best_of_sequences[${i}].generated_text`, 'a string');
    });
  }
}

function generateShape(s: Shape, body: unknown, path: string): void {
  if (!s.check(isObject(body), path, 'a generate response object')) return;
  const b = body as Record<string, unknown>;
  s.check(typeof b.generated_text === 'string', `${path}.generated_text`, 'a string');
  if (b.details !== undefined) detailsShape(s, b.details, `${path}.details`);
}

function usageShape(s: Shape, usage: unknown, path: string): void {
  if (!s.check(isObject(usage), path, 'a usage object')) return;
  const u = usage as Record<string, unknown>;
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) s.check(isInt(u[key]), `${path}.${key}`, 'an integer');
}

function envelopeShape(s: Shape, body: Record<string, unknown>, object: string, prefix: string): void {
  s.check(typeof body.id === 'string' && body.id.startsWith(`${prefix}-`), 'id', `a string starting with ${prefix}-`);
  s.check(body.object === object, 'object', JSON.stringify(object));
  s.check(isInt(body.created), 'created', 'an integer');
  s.check(typeof body.model === 'string', 'model', 'a string');
  s.check(typeof body.system_fingerprint === 'string', 'system_fingerprint', 'a string');
}

const FINISH_REASONS = ['stop', 'length', 'tool_calls'];

/** The checks every choice of an OpenAI answer gets (index, finish reason), then the route's own. */
function eachChoice(s: Shape, body: Record<string, unknown>, checkChoice: (choice: Record<string, unknown>, path: string) => void): void {
  if (!s.check(Array.isArray(body.choices) && body.choices.length > 0, 'choices', 'a non-empty array')) return;
  (body.choices as unknown[]).forEach((c, i) => {
    const path = `choices[${i}]`;
    if (!s.check(isObject(c), path, 'an object')) return;
    const choice = c as Record<string, unknown>;
    s.check(isInt(choice.index), `${path}.index`, 'an integer');
    checkChoice(choice, path);
    s.check(FINISH_REASONS.includes(choice.finish_reason as string), `${path}.finish_reason`, FINISH_REASONS.join('|'));
  });
}

function chatShape(s: Shape, body: unknown): void {
  if (!s.check(isObject(body), '', 'a chat completion object')) return;
  const b = body as Record<string, unknown>;
  envelopeShape(s, b, 'chat.completion', 'chatcmpl');
  eachChoice(s, b, (choice, path) => {
    s.check(
      isObject(choice.message) && choice.message.role === 'assistant' && typeof choice.message.content === 'string',
      `${path}.message`,
      '{"role": "assistant", "content": string}',
    );
    s.check(
      choice.logprobs === null || (isObject(choice.logprobs) && Array.isArray(choice.logprobs.content)),
      `${path}.logprobs`,
      'null or {"content": [...]}',
    );
  });
  usageShape(s, b.usage, 'usage');
}

function completionShape(s: Shape, body: unknown): void {
  if (!s.check(isObject(body), '', 'a completion object')) return;
  const b = body as Record<string, unknown>;
  envelopeShape(s, b, 'text_completion', 'cmpl');
  eachChoice(s, b, (choice, path) => {
    s.check(typeof choice.text === 'string', `${path}.text`, 'a string');
    s.check(choice.logprobs === null || isObject(choice.logprobs), `${path}.logprobs`, 'null or an object');
  });
  usageShape(s, b.usage, 'usage');
}

function tokenizeShape(s: Shape, body: unknown, path: string): void {
  if (!s.check(Array.isArray(body), path, 'an array of tokens')) return;
  (body as unknown[]).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (!s.check(isObject(t), p, 'a token object')) return;
    const token = t as Record<string, unknown>;
    s.check(
      isInt(token.id) && typeof token.text === 'string' && isInt(token.start) && isInt(token.stop),
      p,
      '{"id": int, "text": string, "start": int, "stop": int}',
    );
  });
}

/**
 * Every logprob of a success body: a number. Null only where the API means "none": the first
 * prefill token (nothing predicts it) and, when the prompt is echoed, the first entry of a legacy
 * `token_logprobs`.
 */
export function logprobProblems(value: unknown, echo: boolean): Problem[] {
  const problems: Problem[] = [];
  const bad = (path: string, v: unknown) =>
    problems.push({
      kind: 'null or non-numeric logprob in a success body',
      detail: `${path.replace(/\[\d+\]/g, '[i]')} is ${JSON.stringify(v)}`,
    });
  const visit = (v: unknown, path: string) => {
    if (Array.isArray(v)) return v.forEach((item, i) => visit(item, `${path}[${i}]`));
    if (!isObject(v)) return;
    for (const [key, item] of Object.entries(v)) {
      const p = `${path}.${key}`;
      if (key === 'logprob') {
        if (typeof item !== 'number' && !/prefill\[0\]\.logprob$/.test(p)) bad(p, item);
      } else if (key === 'token_logprobs' && Array.isArray(item)) {
        item.forEach((lp, i) => {
          if (typeof lp !== 'number' && !(lp === null && i === 0 && echo)) bad(`${p}[${i}]`, lp);
        });
      } else if (key === 'top_logprobs' && isObject(item)) {
        for (const [token, lp] of Object.entries(item)) if (typeof lp !== 'number') bad(`${p}[${JSON.stringify(token)}]`, lp);
      } else visit(item, p);
    }
  };
  visit(value, '');
  return problems;
}

function successShape(expect: Expectation, route: string, body: unknown): Problem[] {
  const s = new Shape(`${route} success body`);
  if (route === '/tokenize') tokenizeShape(s, body, '');
  else if (route === '/chat_tokenize') {
    if (s.check(isObject(body), '', 'an object')) {
      const b = body as Record<string, unknown>;
      s.check(typeof b.templated_text === 'string', 'templated_text', 'a string');
      tokenizeShape(s, b.tokenize_response, 'tokenize_response');
    }
  } else if (expect.kind === 'generate') {
    if (route === '/generate') generateShape(s, body, '');
    else if (s.check(Array.isArray(body) && body.length === 1, '', 'an array of one generate response'))
      generateShape(s, (body as unknown[])[0], '[0]');
  } else if (expect.kind === 'chat') chatShape(s, body);
  else completionShape(s, body);
  return s.problems;
}

// ---- streams

interface SseParse {
  events: string[];
  problems: Problem[];
}

function sseEvents(text: string, route: string): SseParse {
  const problems: Problem[] = [];
  if (!text.endsWith('\n\n')) problems.push({ kind: 'stream framing', detail: `${route}: the stream does not end with a blank line` });
  const events: string[] = [];
  for (const frame of text.split('\n\n')) {
    if (frame === '' || frame.startsWith(':')) continue;
    if (!frame.startsWith('data:')) {
      problems.push({ kind: 'stream framing', detail: `${route}: a frame that is not "data:" (${JSON.stringify(frame.slice(0, 80))})` });
      continue;
    }
    events.push(frame.slice(5).trimStart());
  }
  return { events, problems };
}

function nativeStreamProblems(events: string[], route: string, echo: boolean): Problem[] {
  const s = new Shape(`${route} stream event`);
  const problems: Problem[] = [];
  if (events.length === 0) return [{ kind: 'stream framing', detail: `${route}: no events` }];
  events.forEach((data, i) => {
    const last = i === events.length - 1;
    const json = parsed(data);
    if (!json.ok) return void problems.push({ kind: 'stream event is not JSON', detail: `${route}: ${JSON.stringify(data.slice(0, 80))}` });
    const event = json.value;
    if (isObject(event) && 'error' in event) {
      problems.push(...errorBodyProblems('native', event, `${route} in-band error`), ...inBandServerError(event, route));
      if (!last) problems.push({ kind: 'stream framing', detail: `${route}: events after an in-band error` });
      return;
    }
    if (!s.check(isObject(event), 'event', 'an object')) return;
    const e = event as Record<string, unknown>;
    s.check(isInt(e.index), 'index', 'an integer');
    tokenShape(s, e.token, 'token', true);
    s.check(e.details === null || isObject(e.details), 'details', 'null or an object');
    if (last) s.check(typeof e.generated_text === 'string', 'generated_text', 'a string in the last event');
    else s.check(e.generated_text === null, 'generated_text', 'null before the last event');
    problems.push(...logprobProblems(event, echo));
  });
  return [...problems, ...s.problems];
}

function openAiStreamProblems(events: string[], route: string, expect: Expectation): Problem[] {
  const s = new Shape(`${route} stream chunk`);
  const problems: Problem[] = [];
  if (events.at(-1) !== '[DONE]') problems.push({ kind: 'stream framing', detail: `${route}: the last event is not [DONE]` });
  const object = expect.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const prefix = expect.kind === 'chat' ? 'chatcmpl' : 'cmpl';
  events.forEach((data, i) => {
    if (data === '[DONE]') {
      if (i !== events.length - 1) problems.push({ kind: 'stream framing', detail: `${route}: [DONE] before the end` });
      return;
    }
    const json = parsed(data);
    if (!json.ok) return void problems.push({ kind: 'stream event is not JSON', detail: `${route}: ${JSON.stringify(data.slice(0, 80))}` });
    const chunk = json.value;
    if (isObject(chunk) && 'error' in chunk) {
      problems.push(...errorBodyProblems('openai', chunk, `${route} in-band error`), ...inBandServerError(chunk, route));
      if (i !== events.length - 2)
        problems.push({ kind: 'stream framing', detail: `${route}: an in-band error not followed by [DONE] alone` });
      return;
    }
    if (!s.check(isObject(chunk), 'chunk', 'an object')) return;
    const c = chunk as Record<string, unknown>;
    envelopeShape(s, c, object, prefix);
    if (s.check(Array.isArray(c.choices), 'choices', 'an array')) {
      (c.choices as unknown[]).forEach((choice, k) => {
        const path = `choices[${k}]`;
        if (!s.check(isObject(choice), path, 'an object')) return;
        const ch = choice as Record<string, unknown>;
        s.check(isInt(ch.index), `${path}.index`, 'an integer');
        if (expect.kind === 'chat') s.check(isObject(ch.delta), `${path}.delta`, 'an object');
        else s.check(typeof ch.text === 'string', `${path}.text`, 'a string');
        s.check(
          ch.finish_reason === null || FINISH_REASONS.includes(ch.finish_reason as string),
          `${path}.finish_reason`,
          `null or ${FINISH_REASONS.join('|')}`,
        );
      });
    }
    if (c.usage != null) usageShape(s, c.usage, 'usage');
    problems.push(...logprobProblems(chunk, expect.echo));
  });
  return [...problems, ...s.problems];
}

export function answerProblems(request: FuzzRequest, answer: Answer): Problem[] {
  const expect = expectationOf(request);
  const route = request.route;
  if (answer.status >= 500) {
    const json = parsed(answer.text);
    const message = json.ok && isObject(json.value) ? JSON.stringify(json.value).slice(0, 200) : answer.text.slice(0, 200);
    return [{ kind: `HTTP ${answer.status}`, detail: message }];
  }
  if (answer.status >= 400) {
    const json = parsed(answer.text);
    const problems = errorBodyProblems(expect.family, json.ok ? json.value : undefined, `${route} ${answer.status}`);
    if (!/^application\/json/.test(answer.contentType))
      problems.push({ kind: 'error content type', detail: `${route} ${answer.status}: ${answer.contentType || 'none'}` });
    return problems;
  }
  if (answer.status !== 200) return [{ kind: 'unexpected status', detail: `${route}: ${answer.status}` }];
  const streamed = answer.contentType.startsWith('text/event-stream');
  if (streamed !== expect.stream)
    return [
      { kind: 'stream or not', detail: `${route}: expected ${expect.stream ? 'a stream' : 'a JSON body'}, got ${answer.contentType}` },
    ];
  if (streamed) {
    const { events, problems } = sseEvents(answer.text, route);
    const more =
      expect.family === 'native' ? nativeStreamProblems(events, route, expect.echo) : openAiStreamProblems(events, route, expect);
    return [...problems, ...more];
  }
  const json = parsed(answer.text);
  if (!json.ok) return [{ kind: 'success body is not JSON', detail: `${route}: ${answer.text.slice(0, 80)}` }];
  return [...successShape(expect, route, json.value), ...logprobProblems(json.value, expect.echo)];
}
