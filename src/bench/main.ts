#!/usr/bin/env node
// `npm run bench -- <command>`: load a running server, make benchmark models, or compare with
// llama.cpp's llama-server side by side.
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseInteger } from '../cli/options.js';
import { formatTable, runLevel, type Api, type LevelResult } from './load.js';
import { cutToTokens, randomText } from './prompts.js';
import { writeChart } from './chart.js';
import { SeededRandom } from '../sampling/random.js';
import { compare } from './compare.js';
import { sameBudget } from './same-budget.js';
import { SHAPES, writeSyntheticLlama, type Quantization } from './model/synthetic-llama.js';
import { requantizeGguf } from './model/requantize.js';
import { benchTokenize } from './tokenize.js';
import { benchMask } from './mask.js';
import { benchRegex } from './regex.js';
import { benchGrammar } from './grammar.js';
import { benchTools } from './tools.js';
import { benchCache, formatCacheTable } from './cache.js';
import { benchLora, formatLoraTable } from './lora.js';
import { chooseLlamaPackage } from '../engine/llama/library.js';
import { benchEncodeImage } from './encode-image.js';
import { ensureLlamaServer } from './llama-server.js';
import { benchVision, printVisionResults, type VisionBenchOptions } from './vision.js';
import { PROJECTOR_FAMILIES, SMALL_VISION, type ProjectorFamily } from './model/projector.js';

const list = (value: string) => value.split(',').map((v) => parseInteger(1)(v.trim()));
const quantization = (value: string): Quantization => {
  if (value !== 'q8_0' && value !== 'q4_0') throw new Error('quantization must be q8_0 or q4_0');
  return value;
};
const DEFAULT_VOCAB = resolve('..', 'shared', 'models', 'vocab', 'ggml-vocab-gpt-2.gguf');

/** The options that choose the served model: a GGUF, or the synthetic benchmark model of a shape. */
function modelOptions(command: Command, defaults: { shape: string; vocab: string; described: string }): Command {
  return command
    .option('--model <file>', `GGUF to serve (default: a synthetic ${defaults.described}, made once)`)
    .option('--shape <name>', 'shape of the default model', defaults.shape)
    .option('--quantization <q>', 'quantization of the default model', quantization, 'q8_0')
    .option('--vocab <file>', 'vocabulary of the default model', defaults.vocab);
}

/** The options of a benchmark of two workloads in alternating rounds on one tgi-node (RoundsBenchOptions). */
function roundsOptions(command: Command, promptHelp: string): Command {
  return command
    .option('--threads <n>', 'llama.cpp threads', parseInteger(1), 2)
    .option('--concurrency <list>', 'concurrent streams', list, [1, 16])
    .option('--prompt-tokens <n>', promptHelp, parseInteger(1), 128)
    .option('--new-tokens <n>', 'generated tokens per request', parseInteger(1), 128)
    .option('--rounds <n>', 'measurements of each level and workload, alternating', parseInteger(1), 2)
    .option('--requests-per-stream <n>', 'requests per stream in a round', parseInteger(1), 2);
}

type LoraCommandOptions = Parameters<typeof benchLora>[0];

const program = new Command('npm run bench --').description('Benchmarks for tgi-node and other TGI or OpenAI-compatible servers.');

program
  .command('tokenize')
  .description(
    'Time tokenizing long texts (emoji, newlines, words, Chinese, symbols) at two sizes, chunked as the server does and in one llama.cpp call.',
  )
  .option('--vocab <paths...>', 'GGUF files (vocabulary-only ones do)', [
    resolve('..', 'shared', 'models', 'stories260K.gguf'),
    ...['llama-spm', 'qwen2', 'gpt-2'].map((v) => resolve('..', 'shared', 'models', 'vocab', `ggml-vocab-${v}.gguf`)),
  ])
  .option('--bytes <n>', 'the larger text size in bytes (the smaller is a quarter)', parseInteger(4), 1_900_000)
  .option(
    '--one-call-up-to <n>',
    'time the single llama.cpp call only for texts up to this many bytes (it can take minutes)',
    parseInteger(0),
    500_000,
  )
  .action((o: { vocab: string[]; bytes: number; oneCallUpTo: number }) => {
    console.log('vocabulary                      input      bytes      chunked ms   one call ms');
    benchTokenize(o.vocab, o.bytes, o.oneCallUpTo, (row) => {
      const oneCall = row.oneCallMs === null ? '-' : row.oneCallMs.toFixed(1);
      console.log(
        `${row.vocabulary.padEnd(32)}${row.input.padEnd(11)}${String(row.bytes).padStart(9)}${row.chunkedMs.toFixed(1).padStart(13)}${oneCall.padStart(14)}`,
      );
    });
  });

program
  .command('mask')
  .description(
    'Time full token masks of hand-written lexer automata over a vocabulary, per decoding step: trie walk without and with subtree byte sets, and with the per-state mask cache.',
  )
  .option('--vocab <path>', 'GGUF file (vocabulary-only ones do)', resolve('..', 'shared', 'models', 'vocab', 'ggml-vocab-qwen2.gguf'))
  .option('--steps <n>', 'decoding steps timed per automaton and variant', parseInteger(1), 1000)
  .action((o: { vocab: string; steps: number }) => {
    const us = (n: number) => n.toFixed(1).padStart(9);
    benchMask(
      o.vocab,
      o.steps,
      (trie) => {
        console.log(`${trie.vocabSize} tokens, ${trie.nodeCount} trie nodes; token bytes read in ${trie.readBytesMs.toFixed(0)} ms`);
        console.log(
          `trie built in ${trie.buildMs.toFixed(1)} ms, ${(trie.memoryBytes / 2 ** 20).toFixed(2)} MiB (without byte sets: ${trie.buildWithoutByteSetsMs.toFixed(1)} ms, ${(trie.memoryWithoutByteSetsBytes / 2 ** 20).toFixed(2)} MiB)`,
        );
        console.log(
          `applying a mask to the logits: ${trie.applyMostlyAllowedUs.toFixed(1)} us (JSON string), ${trie.applyMostlyRefusedUs.toFixed(1)} us (digits)\n`,
        );
        console.log(`${'automaton'.padEnd(22)}${'variant'.padEnd(20)}states  allowed   avg us   p50 us   p99 us   max us  hits`);
      },
      (row) => {
        const hits = row.hitRate === undefined ? '' : `  ${(row.hitRate * 100).toFixed(1)}%`;
        console.log(
          `${row.automaton.padEnd(22)}${row.variant.padEnd(20)}${String(row.states).padStart(6)}${String(row.allowedAtStart).padStart(9)}${us(row.avgUs)}${us(row.p50Us)}${us(row.p99Us)}${us(row.maxUs)}${hits}`,
        );
      },
    );
  });

program
  .command('regex')
  .description('Time compiling realistic regex constraints and stepping their byte automata (next() per byte once states exist).')
  .action(() => {
    console.log('pattern              compile ms  (cold)   first walk us  states  next ns/byte  all-bytes ns/call');
    benchRegex((row) => {
      const cells = [
        row.compileMs.toFixed(3).padStart(10),
        `(${row.firstCompileMs.toFixed(1)})`.padStart(8),
        row.firstWalkUs.toFixed(0).padStart(15),
        String(row.states).padStart(7),
        row.nextNsPerByte.toFixed(2).padStart(13),
        row.allBytesNsPerCall.toFixed(2).padStart(18),
      ];
      console.log(`${row.name.padEnd(20)}${cells.join(' ')}`);
    });
  });

program
  .command('run', { isDefault: true })
  .description('Drive a running server with concurrent streaming clients; print tokens/s, TTFT and inter-token latency.')
  .option('--url <url>', 'server base URL', 'http://127.0.0.1:3000')
  .option('--api <api>', 'tgi (/generate_stream) or openai (/v1/completions)', 'tgi')
  .option('--concurrency <list>', 'comma-separated numbers of concurrent streams', list, [1, 4, 16])
  .option('--requests-per-stream <n>', 'requests each stream sends per level', parseInteger(1), 2)
  .option('--prompt-tokens <n>', 'prompt length in tokens (cut with the server /tokenize)', parseInteger(1), 128)
  .option('--new-tokens <n>', 'tokens generated per request', parseInteger(1), 128)
  .option('--spread <fraction>', 'draw prompt and output lengths uniformly within +-fraction of the given ones (0: fixed)', Number, 0)
  .option('--json <file>', 'also write the results as JSON')
  .option('--chart <file>', 'also draw throughput and TTFT against concurrency as a PNG')
  .action(
    async (o: {
      url: string;
      api: Api;
      concurrency: number[];
      requestsPerStream: number;
      promptTokens: number;
      newTokens: number;
      spread: number;
      json?: string;
      chart?: string;
    }) => {
      const url = o.url.replace(/\/$/, '');
      const target = { name: url, url, api: o.api };
      const count = Math.max(...o.concurrency) * o.requestsPerStream + 1;
      const random = new SeededRandom(7);
      const vary = (n: number) => Math.max(1, Math.round(n * (1 + o.spread * (2 * random.nextFloat() - 1))));
      const prompts: string[] = [];
      const outputs: number[] = [];
      for (let i = 0; i < count; i++) {
        prompts.push(await cutToTokens(url, randomText(o.promptTokens * 3, 100 + i), vary(o.promptTokens)));
        outputs.push(vary(o.newTokens));
      }
      console.log(
        `Benchmarking ${url}: ${o.promptTokens}-token prompts, ${o.newTokens} new tokens${o.spread ? ` (+-${o.spread * 100}%)` : ''}, streaming`,
      );
      await runLevel(target, { name: 'warm-up', prompt: () => prompts[0], maxNewTokens: 4 }, 1, 1);
      const rows: LevelResult[] = [];
      for (const concurrency of o.concurrency) {
        const bar = new cliProgress.SingleBar(
          { format: `x${concurrency} [{bar}] {value}/{total}`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        const requests = concurrency * o.requestsPerStream;
        bar.start(requests, 0);
        const workload = {
          name: o.spread ? 'spread' : 'fixed',
          prompt: (i: number) => prompts[i % prompts.length],
          maxNewTokens: o.newTokens,
          newTokens: (i: number) => outputs[i % outputs.length],
        };
        rows.push(await runLevel(target, workload, concurrency, requests, (done) => bar.update(done)));
        bar.stop();
      }
      console.log(formatTable(rows));
      if (o.json) writeFileSync(o.json, JSON.stringify(rows, null, 2));
      if (o.chart) {
        const series = (pick: (r: LevelResult) => number) => [{ label: url, points: rows.map((r) => ({ x: r.concurrency, y: pick(r) })) }];
        await writeChart(o.chart, [
          { title: 'Output tokens/s', yLabel: 'tok/s', series: series((r) => r.outputTokensPerSecond) },
          { title: 'Time to first token, p99', yLabel: 'ms', series: series((r) => r.ttftP99Ms) },
        ]);
      }
    },
  );

program
  .command('make-model')
  .description('Write a random-weight Llama GGUF of a realistic shape with a real vocabulary, quantized by our own code.')
  .option('--shape <name>', `one of ${Object.keys(SHAPES).join(', ')}`, 'smollm2-135m')
  .option('--quantization <q>', 'q8_0 or q4_0', quantization, 'q8_0')
  .option('--vocab <file>', 'GGUF whose tokenizer to use', DEFAULT_VOCAB)
  .requiredOption('--out <file>', 'where to write the model')
  .action(async (o: { shape: string; quantization: Quantization; vocab: string; out: string }) => {
    const shape = SHAPES[o.shape];
    if (!shape) throw new Error(`unknown shape ${o.shape}`);
    const bar = new cliProgress.SingleBar(
      { format: 'writing tensors [{bar}] {value}/{total}', stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const result = await writeSyntheticLlama({
      shape,
      shapeName: o.shape,
      vocabPath: o.vocab,
      quantization: o.quantization,
      outPath: o.out,
      onProgress: (done, total) => {
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      },
    });
    bar.stop();
    console.log(
      `${o.out}: ${(result.parameters / 1e6).toFixed(1)}M parameters, vocabulary ${result.vocabSize}, ${(result.bytes / 2 ** 20).toFixed(1)} MiB`,
    );
  });

program
  .command('quantize')
  .description('Quantize the 2-D weights of an F32 GGUF to Q8_0 or Q4_0.')
  .requiredOption('--in <file>', 'F32 GGUF')
  .requiredOption('--out <file>', 'output GGUF')
  .option('--quantization <q>', 'q8_0 or q4_0', quantization, 'q8_0')
  .action(async (o: { in: string; out: string; quantization: Quantization }) => {
    const result = await requantizeGguf(o.in, o.out, o.quantization);
    console.log(`${o.out}: ${result.quantized} tensors quantized, ${result.kept} kept`);
  });

roundsOptions(
  modelOptions(
    program
      .command('grammar')
      .description(
        'Constrained decoding against free decoding on one server: a JSON Schema grammar or none, the same prompts and lengths, in alternating rounds; tokens/s and their ratio through /generate_stream (full masks) and /v1/completions (drawn token checked first).',
      ),
    {
      shape: 'qwen2.5-0.5b',
      vocab: resolve('..', 'shared', 'models', 'vocab', 'ggml-vocab-qwen2.gguf'),
      described: 'Qwen2.5-0.5B-shaped model with the Qwen2 vocabulary',
    },
  ),
  'prompt tokens',
)
  .option('--apis <list>', 'tgi and/or openai', (v: string) => v.split(',').map((a) => a.trim() as Api), ['tgi', 'openai'] as Api[])
  .option('--out <dir>', 'write grammar-results.json there')
  .action(async (o) => {
    await benchGrammar(o);
  });

roundsOptions(
  modelOptions(
    program
      .command('tools')
      .description(
        'Chat with tools (tool_choice auto, answered in text) against the same prompt tokens generated as plain text on one server, in alternating rounds; tokens/s and their ratio.',
      ),
    {
      shape: 'qwen2.5-0.5b',
      vocab: resolve('..', 'shared', 'models', 'vocab', 'ggml-vocab-qwen2.gguf'),
      described: 'Qwen2.5-0.5B-shaped model with the Qwen2 vocabulary',
    },
  ),
  'tokens of the user message',
)
  .option(
    '--chat-template <file>',
    'the chat template (its tool-call format is the one measured)',
    resolve('..', 'shared', 'chat-templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'),
  )
  .option('--out <dir>', 'write tools-results.json there')
  .action(async (o) => {
    await benchTools(o);
  });

program
  .command('cache')
  .description(
    'The response cache: the same greedy request repeated on one tgi-node (/generate and /v1/chat/completions, streamed and not); the first answer (a miss), the median of the hits, and the median of the same request with x-use-cache: false (generated every time).',
  )
  .option('--model <file>', 'GGUF to serve', resolve('..', 'shared', 'models', 'stories260K.gguf'))
  .option('--threads <n>', 'llama.cpp threads', parseInteger(1), 1)
  .option('--new-tokens <n>', 'max_new_tokens (max_tokens) of the request', parseInteger(1), 64)
  .option('--repeats <n>', 'hits and uncached answers timed per route', parseInteger(1), 20)
  .action(async (o: { model: string; threads: number; newTokens: number; repeats: number }) => {
    const rows = await benchCache(o);
    console.log(
      `\nModel ${basename(o.model)}, ${o.threads} thread(s), the same greedy request ${o.repeats} times per route, whole answers timed`,
    );
    console.log(formatCacheTable(rows));
    const ratios = rows.map((r) => r.speedup);
    console.log(
      `\nhits answer ${Math.min(...ratios).toFixed(1)}x to ${Math.max(...ratios).toFixed(1)}x faster than generating again (median times)`,
    );
  });

modelOptions(
  program
    .command('lora')
    .description(
      'Mixed LoRA adapters: one tgi-node with 4 adapters written for the model, 16 streams whose requests go to the base model, to 1, 2 or 4 adapters in turn (the mixes alternating by round); tokens/s against the single-adapter run.',
    ),
  { shape: 'smollm2-135m', vocab: DEFAULT_VOCAB, described: 'SmolLM2-135M-shaped model' },
)
  .option('--threads <n>', 'llama.cpp threads', parseInteger(1), 2)
  .option('--concurrency <n>', 'concurrent streams', parseInteger(1), 16)
  .option('--adapters <list>', 'adapter mixes to measure (each of 1 to 4)', list, [1, 2, 4])
  .option('--rank <n>', 'rank of the adapters', parseInteger(1), 16)
  .option('--prompt-tokens <n>', 'prompt tokens per request', parseInteger(1), 128)
  .option('--new-tokens <n>', 'generated tokens per request', parseInteger(1), 128)
  .option('--rounds <n>', 'measurements of each mix, alternating', parseInteger(1), 2)
  .option('--requests-per-stream <n>', 'requests per stream in a round', parseInteger(1), 2)
  .action(async (o: LoraCommandOptions) => {
    if (o.adapters.some((n) => n > 4)) throw new Error('--adapters: at most 4');
    const rows = await benchLora(o, (message) => console.log(message));
    console.log(
      `\n${o.concurrency} streams, ${o.promptTokens}-token prompts, ${o.newTokens} new tokens, ${o.threads} threads, adapters of rank ${o.rank}`,
    );
    console.log(formatLoraTable(rows));
  });

modelOptions(
  program
    .command('compare')
    .description(
      'Run llama-server (built once from the llama.cpp source in node-llama-cpp, cached) and tgi-node on the same model and workloads; print ratios, write results.json and a chart.',
    ),
  { shape: 'smollm2-135m', vocab: DEFAULT_VOCAB, described: 'SmolLM2-135M-shaped model' },
)
  .option('--threads <n>', 'threads for both servers', parseInteger(1), 2)
  .option('--concurrency <list>', 'concurrent streams', list, [1, 4, 16, 64])
  .option('--prompt-tokens <n>', 'prompt tokens of the throughput workload', parseInteger(1), 128)
  .option('--new-tokens <n>', 'generated tokens per request', parseInteger(1), 128)
  .option('--requests-per-stream <n>', 'requests per stream and level', parseInteger(1), 2)
  .option(
    '--rounds <n>',
    'measurements of each throughput level per server, the servers taking turns (more for levels of few streams, so that each server gets 32 requests at least)',
    parseInteger(1),
    2,
  )
  .option('--shared-prefix-tokens <n>', 'shared system prompt of the shared-prefix workload', parseInteger(1), 1000)
  .option('--shared-prefix-users <n>', 'concurrent users of the shared-prefix workload (0 skips it)', parseInteger(0), 16)
  .option('--question-tokens <n>', 'distinct question after the shared prompt', parseInteger(1), 32)
  .option('--shared-prefix-requests-per-user <n>', 'requests per user', parseInteger(1), 2)
  .option('--llama-server <path>', 'use this llama-server binary instead of building one')
  .option('--skip-llama-server', 'only run tgi-node', false)
  .option('--out <dir>', 'where to write results.json and throughput.png', 'bench-results')
  .option(
    '--same-budget <cells>',
    'instead: give both servers this many KV cells, each at its own defaults otherwise (llama-server with its unified pool, -kvu), run only the throughput workload and report the most requests running at once',
    parseInteger(1),
  )
  .option(
    '--slot-cells <n>',
    'with --same-budget: also run tgi-node with one split slot of this many cells per stream (0: not)',
    parseInteger(0),
    512,
  )
  .action(async (o) => (o.sameBudget ? sameBudget({ ...o, budget: o.sameBudget }) : compare(o)));

program
  .command('llama-server')
  .description(
    'Build the reference llama-server (with mtmd) from the llama.cpp source of the node-llama-cpp release our binaries come from, unless it is cached, and print its path. The image parity test runs when it is there.',
  )
  .action(() => {
    console.log(ensureLlamaServer((message) => console.error(message)));
  });

program
  .command('encode-image')
  .description(
    "Time the image encoder (llama.cpp's mtmd, from the prebuilt addon) on a random-weight projector of a family and size, paired with a text model made from stories260K.",
  )
  .option('--family <name>', `projector family: ${PROJECTOR_FAMILIES.join(', ')}`, 'mlp')
  .option('--image-size <n>', "the encoder's image (or tile) side in pixels (default: the family's small test shape)", parseInteger(1))
  .option('--patch-size <n>', 'patch side in pixels', parseInteger(1))
  .option('--width <n>', "the ViT's width", parseInteger(1))
  .option('--blocks <n>', 'ViT blocks', parseInteger(1))
  .option('--heads <n>', 'attention heads', parseInteger(1))
  .option('--feed-forward <n>', 'feed-forward width', parseInteger(1))
  .option('--matrix-type <t>', 'f16, f32 or q8_0 weight matrices', 'f16')
  .option('--pixels <n>', 'side of the square test image', parseInteger(1), 448)
  .option('--threads <n>', "the encoder's n_threads", parseInteger(1), 1)
  .option('--repeats <n>', 'images encoded (the median is printed)', parseInteger(1), 3)
  .option('--text-model <file>', 'small Llama GGUF with F32 weights', resolve('..', 'shared', 'models', 'stories260K.gguf'))
  .action(
    async (o: {
      family: string;
      imageSize?: number;
      patchSize?: number;
      width?: number;
      blocks?: number;
      heads?: number;
      feedForward?: number;
      matrixType: string;
      pixels: number;
      threads: number;
      repeats: number;
      textModel: string;
    }) => {
      if (!(PROJECTOR_FAMILIES as readonly string[]).includes(o.family))
        throw new Error(`--family must be one of ${PROJECTOR_FAMILIES.join(', ')}`);
      if (o.matrixType !== 'f16' && o.matrixType !== 'f32' && o.matrixType !== 'q8_0')
        throw new Error('--matrix-type must be f16, f32 or q8_0');
      const family = o.family as ProjectorFamily;
      const defined = Object.entries({
        imageSize: o.imageSize,
        patchSize: o.patchSize,
        width: o.width,
        blocks: o.blocks,
        heads: o.heads,
        feedForward: o.feedForward,
      }).filter(([, v]) => v !== undefined);
      const shape = { ...SMALL_VISION[family], ...Object.fromEntries(defined) };
      const result = await benchEncodeImage({
        family,
        shape,
        matrixType: o.matrixType,
        pixels: o.pixels,
        threads: o.threads,
        repeats: o.repeats,
        textModel: o.textModel,
      });
      console.log(
        JSON.stringify({
          family,
          shape,
          matrixType: o.matrixType,
          pixels: o.pixels,
          threads: o.threads,
          ...result,
          tokenizeMs: Number(result.tokenizeMs.toFixed(1)),
          encodeMs: Number(result.encodeMs.toFixed(1)),
          cpuPerWall: Number(result.cpuPerWall.toFixed(2)),
        }),
      );
    },
  );

modelOptions(
  program
    .command('vision')
    .description(
      "Image chats: time to first token of a chat with one image at 1 and 4 concurrent requests, tgi-node against llama-server (built once from the llama.cpp source in node-llama-cpp, cached) on the same text model and random-weight projector, alternating rounds; then tgi-node's text streams' inter-token latency alone and while image chats keep arriving.",
    ),
  { shape: 'smollm2-135m', vocab: DEFAULT_VOCAB, described: 'SmolLM2-135M-shaped model (the mlp text model)' },
)
  .option('--family <name>', `projector family: ${PROJECTOR_FAMILIES.join(', ')}`, 'mlp')
  .option(
    '--vision <shape>',
    "the projector's vision tower: vit-b (336 px, width 768, 12 blocks) or small (the family's test shape)",
    'vit-b',
  )
  .option('--matrix-type <t>', 'f16, f32 or q8_0 projector matrices (q8_0 is what the prebuilt encoder runs fastest)', 'q8_0')
  .option(
    '--pair-from <file>',
    'families other than mlp: the F32 Llama GGUF their text model is made from (their marker tokens added)',
    resolve('..', 'shared', 'models', 'stories260K.gguf'),
  )
  .option('--threads <n>', 'threads for both servers', parseInteger(1), 2)
  .option('--pixels <n>', 'side of the square images sent', parseInteger(1), 448)
  .option('--concurrency <list>', 'concurrent image chats of the time-to-first-token part', list, [1, 4])
  .option('--requests-per-stream <n>', 'requests per stream in a round', parseInteger(1), 2)
  .option('--rounds <n>', 'rounds of each measurement, the servers (or the loads) taking turns', parseInteger(1), 2)
  .option('--image-new-tokens <n>', 'tokens each image chat generates', parseInteger(1), 8)
  .option('--text-streams <n>', 'concurrent text streams of the latency part', parseInteger(1), 8)
  .option('--text-prompt-tokens <n>', 'prompt tokens of each text stream', parseInteger(1), 64)
  .option('--text-new-tokens <n>', 'tokens each text stream generates', parseInteger(1), 128)
  .option('--image-chats-in-flight <n>', 'image chats kept arriving, one after another each, during the latency part', parseInteger(1), 2)
  .option('--slot-tokens <n>', 'KV cells per request on both servers', parseInteger(64), 1024)
  .option('--max-batch-prefill-tokens <n>', "tgi-node's prompt tokens and image rows per step (default: its own)", parseInteger(1))
  .option('--llama-server <path>', 'use this llama-server binary instead of building one')
  .option('--skip-llama-server', 'only run tgi-node', false)
  .option('--skip-tgi-node', 'only run llama-server (the reference half of the time-to-first-token part)', false)
  .option('--out <dir>', 'where to write vision-results.json', 'bench-results')
  .action(async (o: VisionBenchOptions & { family: string; vision: string; matrixType: string }) => {
    if (!(PROJECTOR_FAMILIES as readonly string[]).includes(o.family))
      throw new Error(`--family must be one of ${PROJECTOR_FAMILIES.join(', ')}`);
    if (o.vision !== 'vit-b' && o.vision !== 'small') throw new Error('--vision must be vit-b or small');
    if (o.matrixType !== 'f16' && o.matrixType !== 'f32' && o.matrixType !== 'q8_0')
      throw new Error('--matrix-type must be f16, f32 or q8_0');
    const result = await benchVision(o, (message) => console.error(message));
    printVisionResults(o, result);
  });

// The llama.cpp build the server would load (its CPU backends are shared with llama-server).
chooseLlamaPackage(process.env.TGI_NODE_LLAMA_PACKAGE);
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
