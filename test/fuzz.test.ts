// Property-based fuzzing of every POST route on the real server: mutated valid bodies (wrong
// types, extreme numbers, deep nesting, huge arrays, odd unicode, prototype keys, missing and
// unknown fields, broken JSON, wrong content types) must get a documented answer: never a 5xx,
// never a hang, errors in the route family's body, successes in the route's shape with numeric
// logprobs; and the server must come out of it healthy and exact.
//
// FUZZ_SEED=n fuzzes from another seed (with FUZZ_PATH, replays a shrunk counterexample);
// FUZZ_REQUESTS=n sends n bodies instead of 5,000.
// FUZZ_REPORT=1 records every failure instead of stopping at the first, and prints one example of
// each failure class (the smallest body) at the end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BASES, buildRequest, fuzzCase, ROUTES, shortened, validRequest, type FuzzCase, type FuzzRequest } from './helpers/fuzz-bodies.js';
import { answerProblems } from './helpers/fuzz-checks.js';
import { describeExchange, failureReport, type Exchange } from './helpers/fuzz-report.js';
import { GREEDY_CONTINUATION } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const REPORT = process.env.FUZZ_REPORT === '1';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 5000);
const IN_FLIGHT = 6;
const REQUEST_TIMEOUT_MS = 30_000;
/** The fuzzing plus the shrinking of a failure. */
const FUZZ_TIME_LIMIT_MS = 240_000;

describe('fuzzing every POST route', () => {
  let server: RunningServer;
  let exited: { code: number | null; signal: NodeJS.Signals | null; inFlight: FuzzRequest[] } | undefined;
  const inFlight = new Set<FuzzRequest>();
  before(async () => {
    // 512 tokens hold the tool-call conversation's prompt; 32 sequences at most bound the cost of
    // a valid but heavy mutation (n: 128 without max_tokens would be 60,000 tokens).
    server = await startServer(['--max-total-tokens', '512', '--max-concurrent-requests', '32']);
    server.process.on('exit', (code, signal) => {
      exited = { code, signal, inFlight: [...inFlight] };
    });
  });
  after(() => server.stop());

  const errorLogLines = (from: number) => server.logs.slice(from).filter((line) => /"level":(50|60)/.test(line));

  async function exchange(request: FuzzRequest): Promise<Exchange> {
    inFlight.add(request);
    try {
      return await send(request);
    } finally {
      inFlight.delete(request);
    }
  }

  async function send(request: FuzzRequest): Promise<Exchange> {
    const logsBefore = server.logs.length;
    const headers: Record<string, string> = request.contentType === null ? {} : { 'content-type': request.contentType };
    try {
      // A Buffer body, so that fetch adds no content type of its own.
      const response = await fetch(`${server.url}${request.route}`, {
        method: 'POST',
        headers,
        body: Buffer.from(request.text, 'utf8'),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
      const problems = answerProblems(request, answer);
      // The error log line comes through a pipe, after the answer.
      if (answer.status >= 500) await new Promise((r) => setTimeout(r, 50));
      return { request, answer, problems, serverErrors: answer.status >= 500 ? errorLogLines(logsBefore) : [] };
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const problem =
        e.name === 'TimeoutError'
          ? { kind: `no complete answer in ${REQUEST_TIMEOUT_MS / 1000} s`, detail: request.route }
          : { kind: 'connection failed', detail: `${request.route}: ${e.message} ${e.cause?.code ?? ''}` };
      return { request, problems: [problem], serverErrors: errorLogLines(logsBefore) };
    }
  }

  it('starts from valid bodies: each base body of each route gets a 200 in the route shape', async () => {
    const failures: Exchange[] = [];
    for (const route of ROUTES) {
      for (let i = 0; i < BASES[route].length; i++) {
        const x = await exchange(validRequest(route, i));
        if (x.problems.length > 0 || x.answer?.status !== 200) failures.push(x);
      }
    }
    assert.equal(failures.length, 0, failures.map(describeExchange).join('\n\n'));
  });

  it(`answers ${REQUESTS} mutated bodies with documented statuses and bodies`, { timeout: FUZZ_TIME_LIMIT_MS + 60_000 }, async () => {
    const recorded: Exchange[] = [];
    let sent = 0;
    const started = performance.now();
    const property = fc.asyncProperty(fc.array(fuzzCase, { minLength: IN_FLIGHT, maxLength: IN_FLIGHT }), async (cases: FuzzCase[]) => {
      const exchanges = await Promise.all(cases.map((c) => exchange(buildRequest(c))));
      sent += exchanges.length;
      const failed = exchanges.filter((x) => x.problems.length > 0);
      if (REPORT) recorded.push(...failed);
      else if (failed.length > 0) throw new Error(`fuzz seed ${SEED}\n${failed.map(describeExchange).join('\n\n')}`);
    });
    try {
      await fc.assert(property, {
        seed: SEED,
        path: process.env.FUZZ_PATH,
        numRuns: Math.ceil(REQUESTS / IN_FLIGHT),
        includeErrorInReport: true,
        plugins: [fc.interruptAfterTimeLimit(FUZZ_TIME_LIMIT_MS, { failOnInterrupt: true })],
      });
    } catch (error) {
      if (exited) assert.fail(`${crashReport()}\n\n${(error as Error).message}`);
      throw error;
    } finally {
      console.log(`fuzz: ${sent} requests in ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${SEED}`);
    }
    if (exited) assert.fail(crashReport());
    if (REPORT && recorded.length > 0)
      assert.fail(`fuzz seed ${SEED}: ${recorded.length} failing requests\n${await failureReport(recorded, exchange)}`);
  });

  function crashReport(): string {
    const bodies = exited!.inFlight.map((r) => `POST ${r.route} (content-type: ${r.contentType ?? 'none'})\nbody: ${shortened(r.text)}`);
    return [
      `fuzz seed ${SEED}: the server exited (code ${exited!.code}, signal ${exited!.signal}) with these requests in flight:`,
      ...bodies,
      `last server log lines:\n${server.logs
        .slice(-20)
        .map((l) => shortened(l, 1500))
        .join('\n')}`,
    ].join('\n\n');
  }

  it('comes out healthy, exact and alive', async () => {
    assert.equal(exited, undefined, `the server exited (code ${exited?.code}, signal ${exited?.signal})`);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    // Generated, not replayed from the response cache.
    const r = await postJson(
      `${server.url}/generate`,
      { inputs: 'Once upon a time', parameters: { max_new_tokens: 22 } },
      { 'x-use-cache': 'false' },
    );
    assert.equal(r.status, 200, r.text);
    // 22 greedy tokens end at "... play outside in".
    assert.equal(r.json.generated_text, GREEDY_CONTINUATION.slice(0, GREEDY_CONTINUATION.indexOf(' the park')));
    assert.equal(server.process.exitCode, null);
  });
});
