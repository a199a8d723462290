// How the fuzz test tells about failures: one request and its answer, and (FUZZ_REPORT=1) one
// example per failure class.
import { shortened, type FuzzRequest } from './fuzz-bodies.js';
import type { Answer, Problem } from './fuzz-checks.js';

export interface Exchange {
  request: FuzzRequest;
  /** Absent when no complete answer came. */
  answer?: Answer;
  problems: Problem[];
  /** The server's error log lines written while the request ran. */
  serverErrors: string[];
}

export function describeExchange(x: Exchange): string {
  const lines = [
    ...x.problems.map((p) => `${p.kind}: ${p.detail}`),
    `POST ${x.request.route} (content-type: ${x.request.contentType ?? 'none'}, ${Buffer.byteLength(x.request.text)} bytes)`,
    `body: ${shortened(x.request.text)}`,
    x.answer ? `answer: ${x.answer.status} ${x.answer.contentType}\n${shortened(x.answer.text, 2000)}` : 'answer: none',
  ];
  if (x.serverErrors.length > 0) lines.push(`server error log while it ran:\n${x.serverErrors.map((l) => shortened(l, 1500)).join('\n')}`);
  return lines.join('\n');
}

/**
 * An error log line as its message and where it was thrown: the first function of the server's
 * own code on the stack, else the package it was thrown in.
 */
export function causeOf(line: string): string {
  try {
    const err = (JSON.parse(line) as { err?: { message?: string; stack?: string } }).err ?? {};
    const frames = String(err.stack ?? '')
      .split('\n')
      .slice(1)
      .map((frame) => frame.trim().replace(/^at /, ''));
    const own = frames.find((frame) => frame.includes('/dist/src/'));
    const where = own
      ? own.replace(/\(?file:\/\/\S*\/dist\/(src\/[^:]+)\S*/, '($1)')
      : (frames.map((frame) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(frame)?.[1]).find(Boolean) ?? frames[0] ?? 'unknown');
    return `${err.message} in ${where}`;
  } catch {
    return line.slice(0, 160);
  }
}

/**
 * One example per failure class, the one with the smallest body. A 5xx is sent again alone
 * (`replay`), so that the server's error lines are its own and their cause tells classes apart.
 */
export async function failureReport(failures: Exchange[], replay: (request: FuzzRequest) => Promise<Exchange>): Promise<string> {
  const classes = new Map<string, { count: number; routes: Set<string>; example: Exchange }>();
  for (const failure of failures) {
    let example = failure;
    let cause = '';
    if ((failure.answer?.status ?? 0) >= 500) {
      const alone = await replay(failure.request);
      if ((alone.answer?.status ?? 0) >= 500) example = alone;
      cause = example.serverErrors.length > 0 ? example.serverErrors.map(causeOf).join('; ') : 'no error logged';
    }
    const keys = new Set(
      failure.problems.map((problem) => {
        const detail = problem.kind.startsWith('HTTP')
          ? cause
          : problem.kind.includes('logprob')
            ? ''
            : problem.detail.replace(/\d+/g, 'N');
        return detail ? `${problem.kind} | ${detail}` : problem.kind;
      }),
    );
    for (const key of keys) {
      const entry = classes.get(key) ?? { count: 0, routes: new Set<string>(), example };
      entry.count++;
      entry.routes.add(failure.request.route);
      if (failure.request.text.length < entry.example.request.text.length) entry.example = example;
      classes.set(key, entry);
    }
  }
  const sections = [...classes].map(
    ([key, c], i) => `#${i + 1} ${key}\n${c.count} requests, routes ${[...c.routes].join(' ')}\n${describeExchange(c.example)}`,
  );
  return `${classes.size} failure classes in ${failures.length} failing requests\n\n${sections.join('\n\n')}`;
}
