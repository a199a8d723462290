#!/usr/bin/env node
// `npm run grammar-check -- <dir>`: the constraint engine checked against a MaskBench folder.
import { resolve } from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseInteger } from '../cli/options.js';
import { jsonSchemaAutomaton } from '../grammar/json-schema/index.js';
import { RegexAutomaton } from '../grammar/regex/index.js';
import { COMPILE_STEP_LIMIT, withCompileBudget } from '../grammar/deadline.js';
import { checkFolder } from './check.js';
import { formatReport } from './report.js';
import { loadCheckVocabulary } from './vocabulary.js';

/** The serializations the generation grammar admits (2-space indentation is not one). */
const GENERATION_SERIALIZATIONS = ['compact', 'python'] as const;
const DEFAULT_VOCAB = resolve('..', 'shared', 'models', 'vocab', 'ggml-vocab-qwen2.gguf');

interface Options {
  vocab: string;
  json?: boolean;
  limit?: number;
  sample?: number;
  seed: number;
  timeoutMs: number;
  maskedTokens: number;
  regex?: string;
  maskCache: boolean;
  flexible?: boolean;
}

new Command('npm run grammar-check --')
  .description(
    "Compile every JSON Schema of a MaskBench folder into the grammar generation uses (at most one space, after ',' and ':'; integers in integer syntax) and walk each test instance (compact and as Python's json.dumps writes it, a valid instance's integral numbers written as integers) through the token masks of a real vocabulary. --flexible checks the grammar of any whitespace instead, with instances as written and 2-space indented too.",
  )
  .argument('<dir>', 'folder of MaskBench files ({"schema": ..., "tests": [{"data": ..., "valid": ...}]})')
  .option('--vocab <path>', 'GGUF file (vocabulary-only ones do)', DEFAULT_VOCAB)
  .option('--json', 'print the report as one JSON object on the last line of stdout')
  .option('--limit <n>', 'check only the first N files (by name, after --sample)', parseInteger(1))
  .option('--sample <n>', 'check a seeded random sample of N files', parseInteger(1))
  .option('--seed <s>', 'seed of --sample', parseInteger(0), 0)
  .option('--timeout-ms <ms>', 'a compile that takes longer counts as a timeout', parseInteger(1), 10_000)
  .option('--masked-tokens <n>', 'full masks computed and timed per serialized test', parseInteger(0), 64)
  .option('--no-mask-cache', "time a fresh trie walk for every mask instead of the engine's per-grammar cache of recent states' masks")
  .option(
    '--flexible',
    "check the grammar that admits any whitespace (up to 32 characters between tokens) and integers with a zero fraction where the schema's draft does, with each instance as written, in all three serializations (with 2-space indentation)",
  )
  .option('--regex <pattern>', 'walk the tests against this one regex instead of compiling each schema (exercises the walk and the masks)')
  .action((dir: string, o: Options) => {
    const started = performance.now();
    const vocabulary = loadCheckVocabulary(o.vocab);
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: 'schemas [{bar}] {value}/{total} {eta_formatted}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    const report = checkFolder(dir, {
      // The server's work limit applies (its wall-clock backstop does not: compile times are measured).
      compile: (schema) =>
        withCompileBudget({ steps: COMPILE_STEP_LIMIT, ms: Infinity }, () =>
          o.regex !== undefined
            ? RegexAutomaton.compile(o.regex)
            : jsonSchemaAutomaton(schema, { whitespace: o.flexible ? 'flexible' : 'compact' }),
        ),
      ...(o.flexible ? {} : { serializations: GENERATION_SERIALIZATIONS, integerSyntax: true }),
      vocabulary,
      limit: o.limit,
      sample: o.sample,
      seed: o.seed,
      timeoutMs: o.timeoutMs,
      maskedTokensPerTest: o.maskedTokens,
      maskCache: o.maskCache,
      onProgress: bar && ((done, total) => (done === 1 ? bar.start(total, done) : bar.update(done))),
    });
    bar?.stop();
    console.log(formatReport(report, performance.now() - started));
    if (o.json) console.log(JSON.stringify({ ...report, wall_ms: Math.round(performance.now() - started) }));
  })
  .parse();
