// The checker's core: every schema of a MaskBench folder compiled, and every test instance walked
// through the constraint engine in each serialization. The compiler is a parameter, so that the
// pipeline can be tested with hand-written regexes while the JSON Schema compiler is being written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseLossless } from 'lossless-json';
import type { ByteAutomaton } from '../grammar/automaton.js';
import { SchemaError } from '../grammar/json-schema/index.js';
import { RegexError } from '../grammar/regex/index.js';
import { GrammarError } from '../grammar/cfg/index.js';
import { TokenMask } from '../grammar/token-mask.js';
import { MaskCache } from '../grammar/mask-cache.js';
import { selectFiles, type Selection } from './files.js';
import { Samples } from './samples.js';
import { SERIALIZATIONS, serialize, withIntegerSyntax, type Instance, type Serialization } from './serializations.js';
import type { CheckVocabulary } from './vocabulary.js';
import { walkTokens, type WalkOptions } from './walk.js';

export type SchemaCompiler = (schema: unknown) => ByteAutomaton;

export interface CheckOptions extends Selection {
  compile: SchemaCompiler;
  vocabulary: CheckVocabulary;
  /** A compile that took longer counts as a timeout (compiles are synchronous: measured, not cut). */
  timeoutMs?: number;
  /** Full masks computed and timed per serialized test (the rest of its tokens are only stepped). */
  maskedTokensPerTest?: number;
  /**
   * Time masks as the engine computes them (default): through the compiled grammar's cache of
   * recent states' masks, which starts empty at each schema's compile. False: a trie walk each time.
   */
  maskCache?: boolean;
  /** The serializations each test is walked in (default: all of SERIALIZATIONS). */
  serializations?: readonly Serialization[];
  /**
   * Walk valid instances with their integral numbers written as integers (`5.0` as `5`, see
   * withIntegerSyntax): for a grammar that writes integers in integer syntax.
   */
  integerSyntax?: boolean;
  onProgress?: (done: number, total: number) => void;
}

type FailureKind = 'false_rejection' | 'false_acceptance' | 'mask_mismatch';

interface Failure {
  file: string;
  test: number;
  format: Serialization;
  kind: FailureKind;
  /** Token index where the walk was refused, the token count when it ended short of a match, -1 when accepted. */
  at: number;
  text: string;
}

export interface CheckReport {
  schemas: number;
  compiled: number;
  passed_all: number;
  /** Tests (valid ones) refused in at least one serialization. */
  false_rejections: number;
  /** Tests (invalid ones) accepted whole in at least one serialization. */
  false_acceptances: number;
  crashes: number;
  timeouts: number;
  not_compiled: number;
  /**
   * Schemas whose automaton outgrew one of its bounds while being walked (a RegexError or
   * GrammarError: states, ambiguity): the engine fails such a request alone, in-band.
   */
  automaton_overflows: number;
  /** Tokens whose mask bit disagreed with stepping the automaton over their bytes. */
  mask_mismatches: number;
  tests: number;
  walks: number;
  by_format: Record<Serialization, { false_rejections: number; false_acceptances: number }>;
  compile_ms_p50: number;
  compile_ms_p75: number;
  compile_ms_max: number;
  masks_timed: number;
  mask_us_avg: number;
  mask_us_p50: number;
  mask_us_p99: number;
  mask_us_max: number;
  retokenized: number;
  not_compiled_reasons: { reason: string; count: number }[];
  crash_details: { file: string; message: string }[];
  failures: Failure[];
}

interface MaskBenchFile {
  schema: unknown;
  tests?: { data: unknown; valid: boolean }[];
}

interface Test extends Instance {
  valid: boolean;
}

const REASON_LENGTH = 60;
const KEPT_FAILURES = 50;

export function checkFolder(dir: string, options: CheckOptions): CheckReport {
  const files = selectFiles(dir, options);
  const tally = new Tally();
  const walk: WalkOptions = {
    maskedTokens: options.maskedTokensPerTest ?? 64,
    mask: new TokenMask(options.vocabulary.trie.vocabSize),
    maskMicros: new Samples(),
  };
  const compileMs = new Samples();
  const retokenizedBefore = options.vocabulary.retokenized;
  files.forEach((file, index) => {
    checkFile(file, join(dir, file), options, walk, compileMs, tally);
    options.onProgress?.(index + 1, files.length);
  });
  const [compileP50, compileP75, compileMax] = compileMs.percentiles([0.5, 0.75, 1]);
  const [maskP50, maskP99, maskMax] = walk.maskMicros.percentiles([0.5, 0.99, 1]);
  return {
    schemas: files.length,
    ...tally.counts,
    compile_ms_p50: round(compileP50),
    compile_ms_p75: round(compileP75),
    compile_ms_max: round(compileMax),
    masks_timed: walk.maskMicros.count,
    mask_us_avg: round(walk.maskMicros.average),
    mask_us_p50: round(maskP50),
    mask_us_p99: round(maskP99),
    mask_us_max: round(maskMax),
    retokenized: options.vocabulary.retokenized - retokenizedBefore,
    not_compiled_reasons: [...tally.reasons]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([reason, count]) => ({ reason, count })),
    crash_details: tally.crashDetails,
    failures: tally.failures,
  };
}

function checkFile(file: string, path: string, options: CheckOptions, walk: WalkOptions, compileMs: Samples, tally: Tally): void {
  let tests: Test[];
  let automaton: ByteAutomaton;
  try {
    const text = readFileSync(path, 'utf8');
    const content = JSON.parse(text) as MaskBenchFile;
    const asWritten = parseLossless(text) as MaskBenchFile;
    tests = (content.tests ?? []).map((test, i) => ({ dataAsWritten: asWritten.tests![i].data, valid: test.valid }));
    const started = performance.now();
    automaton = options.compile(content.schema);
    const elapsed = performance.now() - started;
    compileMs.add(elapsed);
    if (elapsed > (options.timeoutMs ?? 10_000)) {
      tally.counts.timeouts++;
      return;
    }
  } catch (error) {
    if (error instanceof SchemaError || error instanceof RegexError) {
      tally.counts.not_compiled++;
      tally.notCompiled(error.message.slice(0, REASON_LENGTH));
    } else tally.crash(file, error);
    return;
  }
  tally.counts.compiled++;
  try {
    if (checkTests(file, automaton, tests, options, walk, tally)) tally.counts.passed_all++;
  } catch (error) {
    if (error instanceof RegexError || error instanceof GrammarError) tally.counts.automaton_overflows++;
    else tally.crash(file, error);
  }
}

/** Whether every test came out right in every serialization. */
function checkTests(
  file: string,
  automaton: ByteAutomaton,
  tests: Test[],
  options: CheckOptions,
  walk: WalkOptions,
  tally: Tally,
): boolean {
  let allRight = true;
  const masks = options.maskCache === false ? undefined : new MaskCache(options.vocabulary.trie, automaton);
  tests.forEach((test, index) => {
    tally.counts.tests++;
    let wrong = false;
    const instance = options.integerSyntax && test.valid ? withIntegerSyntax(test) : test;
    for (const format of options.serializations ?? SERIALIZATIONS) {
      const text = serialize(instance, format);
      const result = walkTokens(automaton, options.vocabulary.trie, options.vocabulary.tokens(text), walk, masks);
      tally.counts.walks++;
      const failure = { file, test: index, format, text };
      if (result.maskMismatchAt !== undefined) {
        tally.counts.mask_mismatches++;
        tally.fail({ ...failure, kind: 'mask_mismatch', at: result.maskMismatchAt });
        wrong = true;
      }
      if (result.accepted !== test.valid) {
        tally.counts.by_format[format][test.valid ? 'false_rejections' : 'false_acceptances']++;
        tally.fail({ ...failure, kind: test.valid ? 'false_rejection' : 'false_acceptance', at: result.refusedAt });
        wrong = true;
      }
    }
    if (wrong && test.valid) tally.counts.false_rejections++;
    else if (wrong) tally.counts.false_acceptances++;
    allRight &&= !wrong;
  });
  return allRight;
}

class Tally {
  readonly counts = {
    compiled: 0,
    passed_all: 0,
    false_rejections: 0,
    false_acceptances: 0,
    crashes: 0,
    timeouts: 0,
    not_compiled: 0,
    automaton_overflows: 0,
    mask_mismatches: 0,
    tests: 0,
    walks: 0,
    by_format: Object.fromEntries(
      SERIALIZATIONS.map((f) => [f, { false_rejections: 0, false_acceptances: 0 }]),
    ) as CheckReport['by_format'],
  };
  readonly reasons = new Map<string, number>();
  readonly crashDetails: { file: string; message: string }[] = [];
  readonly failures: Failure[] = [];

  notCompiled(reason: string): void {
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  crash(file: string, error: unknown): void {
    this.counts.crashes++;
    this.crashDetails.push({ file, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }

  fail(failure: Failure): void {
    if (this.failures.length < KEPT_FAILURES) this.failures.push(failure);
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;
