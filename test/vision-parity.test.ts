// Image chats against llama.cpp's own server: on the same text model, random-weight projector,
// chat template and images, tgi-node's greedy answer equals llama-server's, for one image and for
// two, in each projector family llama-server takes. Runs only where a llama-server with mtmd was
// built into the benchmark cache (`npm run bench -- vision` builds one); skipped otherwise.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECTOR_FAMILIES, writeProjector, writeVisionTextModel, type ProjectorFamily } from '../src/bench/model/projector.js';
import { findLlamaServer, NO_RESPONSE_CACHE, takesImages, type Process } from '../src/bench/llama-server.js';
import {
  greedyChat,
  imagePart,
  noisePixels,
  pngDataUri,
  referencePrompt,
  smallestMargin,
  solidPixels,
  startReferenceServer,
  textPart,
  writePlainTemplate,
  type ChatMessage,
  type ContentPart,
  type GreedyAnswer,
  type Pixels,
} from '../src/bench/vision-reference.js';
import { MtmdImageEncoder } from '../src/vision/encoder.js';
import { LlamaModel } from '../src/engine/llama/model.js';
import { compileReferenceRows, type ReferenceRows } from './helpers/reference-rows.js';
import { greedyFromRows } from './helpers/rows-decode.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { STORIES } from './helpers/models.js';

const WIDTH = 64; // stories260K's embedding width
const NEW_TOKENS = 24;

/** Image sizes that exercise each family: idefics3 slices 112 px into tiles, qwen2.5vl keeps a non-square size. */
const IMAGE_SIZE: Record<ProjectorFamily, [number, number]> = {
  mlp: [56, 56],
  idefics3: [112, 112],
  gemma3: [224, 224],
  'qwen2.5vl': [112, 84],
};

const binary = findLlamaServer();
const skip =
  binary === undefined
    ? 'no llama-server in the benchmark cache (`npm run bench -- vision` builds one)'
    : takesImages(binary)
      ? false
      : `${binary} was built without mtmd (no --mmproj)`;
/** The program that encodes with llama-server's build, or why there is none. */
let compiled: ReferenceRows | string | undefined;
after(() => {
  if (typeof compiled === 'object') compiled.remove();
});

interface Case {
  name: string;
  images: Pixels[];
  /** The user message's parts: text, then each image followed by text. */
  texts: string[];
}

const messagesOf = (chat: Case): ChatMessage[] => {
  // One text part between images: llama-server joins adjacent text parts with a newline, tgi-node
  // without; around an image neither adds anything.
  const content: ContentPart[] = [textPart(chat.texts[0])];
  chat.images.forEach((image, i) => content.push(imagePart(pngDataUri(image)), textPart(chat.texts[i + 1])));
  return [{ role: 'user', content }];
};

/** The prompt the template renders (without its BOS, which mtmd adds), images as mtmd's marker. */
const promptOf = (chat: Case, marker: string) => chat.texts.join(marker);

/**
 * idefics3's resize and padding changed between the encoder's llama.cpp release and
 * llama-server's: the rows of a resized or padded noise image differ by up to 5 (values up to 7),
 * while a tile cut out whole agrees to 1e-6. A one-colour square image resizes the same in both.
 */
const SAME_IN_BOTH_RELEASES: Partial<Record<ProjectorFamily, true>> = { idefics3: true };

function cases(family: ProjectorFamily): Case[] {
  const [w, h] = IMAGE_SIZE[family];
  const solid = SAME_IN_BOTH_RELEASES[family];
  const a = solid ? solidPixels(w, h, [200, 40, 90]) : noisePixels(w, h, 1);
  const b = solid ? solidPixels(w, h, [30, 160, 220]) : noisePixels(w, h, 2);
  return [
    { name: 'one image', images: [a], texts: ['Once upon a time', ' there was'] },
    { name: 'another image', images: [b], texts: ['Once upon a time', ' there was'] },
    { name: 'two images', images: [a, b], texts: ['Once upon a time', ' and', ' there was'] },
  ];
}

/** The largest difference between two sets of rows, the row it is in, and the largest value. */
function rowDifference(ours: Float32Array, theirs: Float32Array, width: number): { max: number; row: number; largest: number } {
  let max = 0;
  let at = 0;
  let largest = 0;
  for (let i = 0; i < theirs.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    if (d > max) [max, at] = [d, i];
    largest = Math.max(largest, Math.abs(theirs[i]));
  }
  return { max, row: Math.floor(at / width), largest };
}

/** Where two answers part, with the reference's margin there. */
function divergence(reference: GreedyAnswer, ours: GreedyAnswer): string {
  let i = 0;
  while (i < reference.content.length && reference.content[i] === ours.content[i]) i++;
  let offset = 0;
  const at = reference.tokens.findIndex((t) => (offset += t.token.length) > i);
  const top = reference.tokens[at]?.top ?? [];
  const margin = top.length >= 2 ? (top[0] - top[1]).toFixed(4) : 'unknown';
  return `differ from character ${i} (token ${at}): llama-server ${JSON.stringify(reference.content.slice(i))}, tgi-node ${JSON.stringify(ours.content.slice(i))}; llama-server's top-2 log-probability gap there: ${margin}`;
}

for (const family of PROJECTOR_FAMILIES)
  describe(`image chats against llama-server (${family})`, { skip }, () => {
    let dir: string;
    let textModel: string;
    let projector: string;
    let template: string;
    let reference: Process | undefined;
    const answers = new Map<string, GreedyAnswer>();
    const chats = cases(family);
    let rows: ReferenceRows | string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `tgi-node-vision-parity-${family}-`));
      textModel = join(dir, `text-${family}.gguf`);
      projector = join(dir, `mmproj-${family}.gguf`);
      await writeVisionTextModel(STORIES, textModel, family);
      writeProjector({ family, outPath: projector, outputWidth: WIDTH });
      template = writePlainTemplate(dir);
      compiled ??= compileReferenceRows(binary!);
      rows = compiled;
      reference = await startReferenceServer(binary!, {
        textModel,
        projector,
        chatTemplate: template,
        threads: 1,
        slots: 1,
        slotTokens: 1024,
      });
      for (const chat of chats) answers.set(chat.name, await greedyChat(reference.url, messagesOf(chat), NEW_TOKENS));
    });

    after(async () => {
      await reference?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('llama-server answers each chat, and the images change its greedy text', async (t: TestContext) => {
      for (const chat of chats) {
        const answer = answers.get(chat.name)!;
        t.diagnostic(
          `${family}, ${chat.name}: ${JSON.stringify(answer.content)} (${answer.promptTokens} prompt tokens, smallest top-2 gap ${smallestMargin(answer).toFixed(4)})`,
        );
        assert.ok(answer.content.length > 0, chat.name);
      }
      t.diagnostic(`${family}, two images, prompt: ${JSON.stringify(await referencePrompt(reference!.url, messagesOf(chats[2])))}`);
      const [one, another, two] = chats.map((chat) => answers.get(chat.name)!.content);
      assert.notEqual(one, another);
      assert.notEqual(one, two);
    });

    it("the image encoder's chunks and rows are llama-server's build's, to rounding", async (t: TestContext) => {
      if (typeof rows === 'string') return t.skip(rows);
      const program = rows;
      const encoder = await MtmdImageEncoder.open(textModel, projector, { threads: 1 });
      try {
        const compare = async (chat: Case) => {
          const prompt = promptOf(chat, encoder.info.marker);
          const theirs = program.chunks(textModel, projector, prompt, chat.images, WIDTH);
          const tokenized = await encoder.tokenize(prompt, chat.images);
          try {
            assert.deepEqual(
              tokenized.chunks.map((c) => (c.kind === 'text' ? Array.from(c.tokens) : 'image')),
              theirs.map((c) => (c.kind === 'text' ? c.tokens : 'image')),
              `${family}, ${chat.name}: the prompt's chunks`,
            );
            const differences = [];
            let position = 0;
            for (const [i, chunk] of tokenized.chunks.entries()) {
              const reference = theirs[i];
              if (chunk.kind !== 'image' || reference.kind !== 'image') continue;
              const encoded = await encoder.encode(tokenized, chunk.index, position);
              position = encoded.next;
              assert.equal(encoded.rows.length, reference.rows.length, `${family}, ${chat.name}, chunk ${i}: rows`);
              differences.push({ chunk: i, ...rowDifference(encoded.rows, reference.rows, WIDTH) });
            }
            return differences;
          } finally {
            tokenized.dispose();
          }
        };
        for (const chat of chats) {
          const differences = await compare(chat);
          const worst = differences.reduce((a, b) => (b.max / b.largest > a.max / a.largest ? b : a));
          t.diagnostic(
            `${family}, ${chat.name}: ${differences.length} image chunk(s), largest difference ${worst.max.toExponential(2)} (chunk ${worst.chunk}, row ${worst.row}; values up to ${worst.largest.toFixed(2)})`,
          );
          for (const d of differences)
            assert.ok(d.max <= 1e-3 * d.largest, `${family}, ${chat.name}, chunk ${d.chunk}: ${JSON.stringify(d)}`);
        }
        if (SAME_IN_BOTH_RELEASES[family]) {
          // What a noise image gives instead: shown, not asserted.
          const [w, h] = IMAGE_SIZE[family];
          const differences = await compare({ name: 'noise', images: [noisePixels(w, h, 1)], texts: ['Once upon a time', ' there was'] });
          t.diagnostic(
            `${family}, a noise image: largest difference per chunk ${differences.map((d) => `${d.max.toExponential(1)} (values up to ${d.largest.toFixed(2)})`).join(', ')}`,
          );
        }
      } finally {
        await encoder.close();
      }
    });

    it("our libllama's greedy text from the encoder's rows is llama-server's", async () => {
      const encoder = await MtmdImageEncoder.open(textModel, projector, { threads: 1 });
      const model = LlamaModel.load(textModel);
      try {
        for (const chat of chats) {
          const expected = answers.get(chat.name)!;
          const got = await greedyFromRows(model, encoder, promptOf(chat, encoder.info.marker), chat.images, NEW_TOKENS);
          assert.equal(got.text, expected.content, `${family}, ${chat.name}`);
          assert.equal(got.promptTokens, expected.promptTokens, `${family}, ${chat.name}: prompt tokens`);
        }
      } finally {
        await encoder.close();
        model.free();
      }
    });

    it("tgi-node's greedy answers equal llama-server's", async () => {
      let ours: RunningServer | undefined;
      try {
        ours = await startServer(['--mmproj', projector, '--chat-template', template, ...NO_RESPONSE_CACHE], {}, textModel);
        for (const chat of chats) {
          const expected = answers.get(chat.name)!;
          const got = await greedyChat(ours.url, messagesOf(chat), NEW_TOKENS);
          assert.equal(got.content, expected.content, `${family}, ${chat.name}: ${divergence(expected, got)}`);
          assert.equal(got.promptTokens, expected.promptTokens, `${family}, ${chat.name}: prompt tokens`);
        }
      } finally {
        await ours?.stop();
      }
    });
  });
