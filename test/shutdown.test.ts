// SIGTERM/SIGINT: running requests finish, idle keep-alive connections never hold the exit, and a
// second signal or --graceful-termination-timeout ends the streams still running with an in-band error.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { readSseData } from '../src/bench/sse-reader.js';
import { helpText, logMessages, type RunningServer, startServer } from './helpers/server.js';

// stories260K decodes over 1,000 tokens/s on one thread, slower as its context grows: two streams
// of 1,000 tokens run for seconds, of 4,000 for far longer than any bound below.
const LONG_CONTEXT = ['--max-total-tokens', '4096'];

interface StreamEnd {
  events: unknown[];
  endedAt: number;
}

interface OpenStream {
  /** Resolves with the first event. */
  started: Promise<void>;
  finished: Promise<StreamEnd>;
}

/** A streamed POST through `agent`, read event by event (`[DONE]` kept as the string). */
function openStream(agent: Agent, url: string, path: string, body: unknown): OpenStream {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const finished = new Promise<StreamEnd>((resolve, reject) => {
    const request = httpRequest(
      `${url}${path}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      async (response) => {
        const events: unknown[] = [];
        try {
          for await (const data of readSseData(response)) {
            events.push(data === '[DONE]' ? data : JSON.parse(data));
            markStarted();
          }
          resolve({ events, endedAt: performance.now() });
        } catch (error) {
          reject(error);
        }
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
  finished.catch(() => markStarted());
  return { started, finished };
}

interface Exit {
  code: number | null;
  at: number;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
}

/** The exit, or a failure naming the wait if the process is still running after `ms`. */
async function exitWithin(exit: Promise<Exit>, ms: number, logs: string[]): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const result = await Promise.race([exit, timeout]);
  clearTimeout(timer);
  assert.ok(result, `the server was still running ${ms / 1000} s after the signal:\n${logs.slice(-5).join('\n')}`);
  return result;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** An event, short enough for a failure message. */
const show = (event: unknown) => String(JSON.stringify(event)).slice(0, 300);

const isFinalNative = (event: unknown) => typeof (event as { generated_text?: unknown }).generated_text === 'string';
const isNativeError = (event: unknown) => {
  const e = event as { error?: unknown; error_type?: unknown };
  return typeof e.error === 'string' && typeof e.error_type === 'string';
};
const isOpenAiError = (event: unknown) => {
  const error = (event as { error?: Record<string, unknown> }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof error.message === 'string' &&
    typeof error.type === 'string' &&
    'param' in error &&
    'code' in error
  );
};
const hasFinishReason = (event: unknown) =>
  ((event as { choices?: { finish_reason: unknown }[] }).choices ?? []).some((c) => c.finish_reason !== null);

const chatBody = (maxTokens: number) => ({
  messages: [{ role: 'user', content: 'Tell me a story' }],
  max_tokens: maxTokens,
  temperature: 0,
  stream: true,
});
const generateBody = (maxNewTokens: number) => ({ inputs: 'Once upon a time', parameters: { max_new_tokens: maxNewTokens } });
const completionsBody = (maxTokens: number) => ({ prompt: 'Once upon a time', max_tokens: maxTokens, temperature: 0, stream: true });

describe('shutdown', () => {
  let server: RunningServer | undefined;
  let agent: Agent | undefined;

  /**
   * The server started with `args`, and `requests` streamed through one keep-alive agent (after
   * `prepare`, if given): resolves once every stream has sent its first event.
   */
  async function streaming(
    args: string[],
    requests: [path: string, body: unknown][],
    prepare?: (url: string, agent: Agent) => Promise<void>,
  ) {
    const running = await startServer(args);
    const pool = new Agent({ keepAlive: true });
    server = running;
    agent = pool;
    const exit = exitOf(running.process);
    if (prepare) await prepare(running.url, pool);
    const streams = requests.map(([path, body]) => openStream(pool, running.url, path, body));
    await Promise.all(streams.map((stream) => stream.started));
    return { server: running, exit, ends: () => Promise.all(streams.map((stream) => stream.finished)) };
  }

  afterEach(async () => {
    agent?.destroy();
    const child = server?.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = exitOf(child);
      child.kill('SIGKILL');
      await exited;
    }
    server = undefined;
  });

  it('SIGTERM lets running streams finish, then exits with 0 at once although the client keeps its connections alive', async (t) => {
    const { server, exit, ends } = await streaming(
      LONG_CONTEXT,
      [
        ['/v1/chat/completions', chatBody(1000)],
        ['/generate_stream', generateBody(1000)],
      ],
      // A request first, so the pool holds an idle connection while the streams run.
      (url, agent) =>
        new Promise<void>((resolve, reject) =>
          httpRequest(`${url}/info`, { agent }, (r) => r.resume().on('end', resolve))
            .on('error', reject)
            .end(),
        ),
    );
    const signalAt = performance.now();
    server.process.kill('SIGTERM');

    const [chatEnd, generateEnd] = await ends();
    assert.equal(chatEnd.events.at(-1), '[DONE]');
    assert.ok(hasFinishReason(chatEnd.events.at(-2)), show(chatEnd.events.at(-2)));
    assert.ok(isFinalNative(generateEnd.events.at(-1)), show(generateEnd.events.at(-1)));
    const lastEnd = Math.max(chatEnd.endedAt, generateEnd.endedAt);
    assert.ok(lastEnd > signalAt, 'the streams ended before the signal');

    const exited = await exitWithin(exit, 20_000, server.logs);
    t.diagnostic(`streams ended ${seconds(lastEnd - signalAt)} after SIGTERM, exit ${seconds(exited.at - lastEnd)} after that`);
    assert.equal(exited.code, 0);
    const messages = logMessages(server.logs);
    assert.ok(
      messages.some((m) => /SIGTERM received.*2 requests running/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /exiting with code 0/.test(m)),
      messages.join('\n'),
    );
  });

  it('SIGTERM drains a stream still running well beyond 10 s after it, then exits with 0', async (t) => {
    // Fastify gives its close hooks 10 s; the drain must last as long as the streams do (up to the
    // 90 s default timeout), not end them when that expires.
    // 5,000 tokens at a growing context: well over 10 s on stories260K with one thread, far below
    // the 90 s timeout.
    const { server, exit, ends } = await streaming(
      ['--max-total-tokens', '8192'],
      [['/generate_stream', { ...generateBody(5000), parameters: { max_new_tokens: 5000, details: true } }]],
    );
    const signalAt = performance.now();
    server.process.kill('SIGTERM');

    const [generateEnd] = await ends();
    const last = generateEnd.events.at(-1) as { generated_text?: string; details?: { finish_reason: string; generated_tokens: number } };
    assert.ok(isFinalNative(last), show(last));
    assert.equal(last.details?.finish_reason, 'length', show(last));
    assert.equal(last.details?.generated_tokens, 5000);
    assert.equal(generateEnd.events.length, 5000);
    const exited = await exitWithin(exit, 20_000, server.logs);
    t.diagnostic(`the stream ended ${seconds(generateEnd.endedAt - signalAt)} after SIGTERM`);
    assert.equal(exited.code, 0);
    const messages = logMessages(server.logs);
    assert.ok(
      messages.some((m) => /all requests finished: exiting with code 0/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      !server.logs.some((line) => /AVV_ERR_READY_TIMEOUT|closing the HTTP server failed/.test(line)),
      server.logs.slice(-5).join('\n'),
    );
  });

  it('a --graceful-termination-timeout beyond 10 s ends the streams still running at its end with the shutdown error, and exits with 1', async (t) => {
    // Streams of 30,000 tokens: far longer than the 12 s timeout on any machine, so both are still
    // running when it ends.
    const { server, exit, ends } = await streaming(
      ['--max-total-tokens', '32768', '--max-batch-total-tokens', '65536', '--graceful-termination-timeout', '12'],
      [
        ['/generate_stream', generateBody(30_000)],
        ['/v1/chat/completions', chatBody(30_000)],
      ],
    );
    const signalAt = performance.now();
    server.process.kill('SIGTERM');

    const [generateEnd, chatEnd] = await ends();
    t.diagnostic(
      `streams stopped ${seconds(generateEnd.endedAt - signalAt)} after SIGTERM, after ${generateEnd.events.length} and ${chatEnd.events.length} events`,
    );
    assert.deepEqual(generateEnd.events.at(-1), { error: 'The server is shutting down', error_type: 'shutdown' });
    assert.ok(isOpenAiError(chatEnd.events.at(-2)), show(chatEnd.events.at(-2)));
    assert.equal((chatEnd.events.at(-2) as { error: { message: string } }).error.message, 'The server is shutting down');
    assert.equal(chatEnd.events.at(-1), '[DONE]');
    const exited = await exitWithin(exit, 20_000, server.logs);
    assert.equal(exited.code, 1);
    const messages = logMessages(server.logs);
    assert.ok(
      messages.some((m) =>
        /graceful termination timeout \(12 s\) reached: stopping the 2 requests running, then exiting with code 1/.test(m),
      ),
      messages.join('\n'),
    );
    assert.ok(!server.logs.some((line) => /AVV_ERR_READY_TIMEOUT|engine thread exited/.test(line)), server.logs.slice(-5).join('\n'));
  });

  it('--help tells what the timeout does and the exit codes', () => {
    const help = helpText();
    assert.match(
      help,
      /--graceful-termination-timeout <s> Seconds to let running requests finish on SIGTERM\/SIGINT; then they are stopped \(streams get an error event\), as a second signal does at once\. Exit code 0 when all finished, 1 when some were stopped\./,
    );
    assert.match(help, /\(default: 90, env: GRACEFUL_TERMINATION_TIMEOUT\)/);
  });

  it('SIGTERM exits at once when a client holds open connections that never sent a request', async () => {
    server = await startServer();
    // A pooled, spare connection (as fetch opens after an aborted stream) and a bare one.
    const { connect } = await import('node:net');
    const { hostname, port } = new URL(server.url);
    const sockets = [connect(Number(port), hostname), connect(Number(port), hostname)];
    // The server cuts them: a reset is what the test expects, not an error.
    for (const socket of sockets) socket.on('error', () => undefined);
    await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    const exit = exitOf(server.process);
    server.process.kill('SIGTERM');
    await exitWithin(exit, 20_000, server.logs);
    const finished = logMessages(server.logs).some((m) => /all requests finished/.test(m));
    assert.ok(finished, logMessages(server.logs).join('\n'));
    for (const socket of sockets) socket.destroy();
    // Without closing them, the server's close waits until the client drops them (seconds, or never).
  });

  it('a second signal ends the running streams with an in-band error and exits promptly', async (t) => {
    const { server, exit, ends } = await streaming(
      [...LONG_CONTEXT, '--graceful-termination-timeout', '600'],
      [
        ['/generate_stream', generateBody(4000)],
        ['/v1/chat/completions', chatBody(4000)],
      ],
    );
    server.process.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const secondAt = performance.now();
    server.process.kill('SIGINT');

    const [generateEnd, chatEnd] = await ends();
    assert.ok(isNativeError(generateEnd.events.at(-1)), show(generateEnd.events.at(-1)));
    assert.ok(isOpenAiError(chatEnd.events.at(-2)), show(chatEnd.events.at(-2)));
    assert.equal(chatEnd.events.at(-1), '[DONE]');

    const exited = await exitWithin(exit, 20_000, server.logs);
    t.diagnostic(`exit ${seconds(exited.at - secondAt)} after the second signal`);
    assert.equal(exited.code, 1);
    const messages = logMessages(server.logs);
    assert.ok(
      messages.some((m) => /SIGINT received again.*2 requests running/.test(m)),
      messages.join('\n'),
    );
  });

  it('--graceful-termination-timeout ends the streams still running with an in-band error, then exits', async (t) => {
    const { server, exit, ends } = await streaming(
      [...LONG_CONTEXT, '--graceful-termination-timeout', '1'],
      [
        ['/generate_stream', generateBody(4000)],
        ['/v1/completions', completionsBody(4000)],
      ],
    );
    const signalAt = performance.now();
    server.process.kill('SIGTERM');

    const [generateEnd, completionsEnd] = await ends();
    assert.ok(isNativeError(generateEnd.events.at(-1)), show(generateEnd.events.at(-1)));
    assert.ok(isOpenAiError(completionsEnd.events.at(-2)), show(completionsEnd.events.at(-2)));
    assert.equal(completionsEnd.events.at(-1), '[DONE]');

    const exited = await exitWithin(exit, 20_000, server.logs);
    t.diagnostic(
      `streams stopped ${seconds(generateEnd.endedAt - signalAt)} after SIGTERM, exit ${seconds(exited.at - signalAt)} after it`,
    );
    assert.equal(exited.code, 1);
    const messages = logMessages(server.logs);
    assert.ok(
      messages.some((m) => /graceful termination timeout \(1 s\) reached.*2 requests running/.test(m)),
      messages.join('\n'),
    );
  });
});
