// Regex automaton costs on realistic patterns: compile time (parse, NFA, start state), the first
// walk over sample texts (which builds the DFA states it needs), and the cost of next() once the
// states exist, along a text and over all 256 bytes of each state (as a token-mask walk asks).
import { RegexAutomaton } from '../grammar/regex/index.js';

const REGEX_CASES: { name: string; pattern: string; samples: string[] }[] = [
  { name: 'email', pattern: '[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}', samples: ['john.doe+news@example-mail.co.uk', 'a@b.io'] },
  {
    name: 'iso date-time',
    pattern:
      '\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)',
    samples: ['2026-12-02T01:08:11.123456Z', '1999-01-31T23:59:59+05:30'],
  },
  {
    name: 'uuid',
    pattern: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}',
    samples: ['123e4567-e89b-42d3-a456-426614174000'],
  },
  { name: 'identifier', pattern: '[a-zA-Z0-9_]{1,64}', samples: ['snake_case_identifier_42', 'x'.repeat(64)] },
  {
    name: 'phone',
    pattern: '\\+?[1-9]\\d{0,2}[ .-]?\\(?\\d{1,4}\\)?([ .-]?\\d{2,4}){2,4}',
    samples: ['+1 (555) 123-4567', '+44 20 7946 0958'],
  },
  {
    name: 'json string',
    pattern: '"([^"\\\\\\x00-\\x1f]|\\\\["\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4})*"',
    samples: ['"Grüße, 世界! \\"quoted\\" 😀 \\u00e9"'],
  },
  { name: 'any text <= 200', pattern: '.{0,200}', samples: ['Once upon a time, 在很久以前, il était une fois 😀'.repeat(3)] },
];

export interface RegexRow {
  name: string;
  compileMs: number;
  firstCompileMs: number;
  firstWalkUs: number;
  states: number;
  nextNsPerByte: number;
  allBytesNsPerCall: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export function benchRegex(report: (row: RegexRow) => void): void {
  for (const { name, pattern, samples } of REGEX_CASES) {
    const firstCompileMs = time(() => RegexAutomaton.compile(pattern));
    const compileMs = median(Array.from({ length: 21 }, () => time(() => RegexAutomaton.compile(pattern))));
    const automaton = RegexAutomaton.compile(pattern);
    const texts = samples.map((s) => new TextEncoder().encode(s));
    const walk = () => {
      let live = 0;
      for (const bytes of texts) {
        let state = automaton.start;
        for (let i = 0; i < bytes.length; i++) state = automaton.next(state, bytes[i]);
        if (automaton.accepting(state)) live++;
      }
      if (live !== texts.length) throw new Error(`${name}: a sample does not match`);
    };
    const firstWalkUs = time(walk) * 1000;
    // The states along the samples, each asked for every byte: what a token-mask walk does.
    const visited = new Set<number>([automaton.start]);
    for (const bytes of texts) {
      let state = automaton.start;
      for (const byte of bytes) visited.add((state = automaton.next(state, byte)));
    }
    const states = [...visited];
    const scanAll = () => {
      let sink = 0;
      for (const state of states) for (let byte = 0; byte < 256; byte++) sink += automaton.next(state, byte);
      return sink;
    };
    scanAll();
    const bytesPerWalk = texts.reduce((n, t) => n + t.length, 0);
    const walks = Math.ceil(5_000_000 / bytesPerWalk);
    const scans = Math.ceil(5_000_000 / (256 * states.length));
    // The best of three rounds, after the first has warmed the code up.
    const walkMs = Math.min(
      ...[0, 1, 2].map(() =>
        time(() => {
          for (let i = 0; i < walks; i++) walk();
        }),
      ),
    );
    const scanMs = Math.min(
      ...[0, 1, 2].map(() =>
        time(() => {
          for (let i = 0; i < scans; i++) scanAll();
        }),
      ),
    );
    report({
      name,
      compileMs,
      firstCompileMs,
      firstWalkUs,
      states: automaton.stateCount,
      nextNsPerByte: (walkMs * 1e6) / (walks * bytesPerWalk),
      allBytesNsPerCall: (scanMs * 1e6) / (scans * 256 * states.length),
    });
  }
}
