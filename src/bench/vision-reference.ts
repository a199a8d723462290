// llama-server as the reference for image chats: started on a text model and its projector with
// the same chat template as tgi-node, greedy, and asked OpenAI chat completions whose messages
// hold images as data URIs. Shared by the vision benchmark and the parity test.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { freePort, startProcess, type Process } from './llama-server.js';

/**
 * The marker mtmd replaces with an image's tokens. llama-server draws a random one per process
 * unless told; tgi-node and the projector writers use mtmd's default.
 */
const MEDIA_MARKER = '<__media__>';

/**
 * A chat template for models that bring none (stories260K and its pairings, the synthetic
 * benchmark models): the BOS token, then the messages' contents back to back, so a story prompt
 * stays a story prompt. Both servers are given this one file.
 */
const PLAIN_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ message['content'] }}{% endfor %}";

/** Writes `PLAIN_TEMPLATE` into `dir`; returns its path. */
export function writePlainTemplate(dir: string): string {
  const path = join(dir, 'plain.jinja');
  writeFileSync(path, PLAIN_TEMPLATE);
  return path;
}

export interface ReferenceStart {
  textModel: string;
  projector: string;
  /** A Jinja template file (`--chat-template-file`, rendered by llama-server's Jinja engine). */
  chatTemplate: string;
  threads: number;
  /** Parallel sequences (`-np`). */
  slots: number;
  /** KV cells per slot. */
  slotTokens: number;
}

/**
 * Starts llama-server on a loopback port. Image parts become `MEDIA_MARKER` in the message text
 * before the template runs (text parts around an image are joined without a separator, as
 * tgi-node joins them), and the text around each marker is tokenized by mtmd.
 */
export async function startReferenceServer(binary: string, start: ReferenceStart): Promise<Process> {
  const port = await freePort();
  const args = [
    '-m',
    start.textModel,
    '--mmproj',
    start.projector,
    '--jinja',
    '--chat-template-file',
    start.chatTemplate,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-t',
    String(start.threads),
    '-tb',
    String(start.threads),
    '-np',
    String(start.slots),
    '-c',
    String(start.slots * start.slotTokens),
    '--threads-http',
    String(start.slots + 4),
    '--no-webui',
  ];
  return startProcess(binary, args, `http://127.0.0.1:${port}`, '/health', { ...process.env, LLAMA_MEDIA_MARKER: MEDIA_MARKER });
}

export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
}

export const textPart = (text: string): ContentPart => ({ type: 'text', text });
export const imagePart = (url: string): ContentPart => ({ type: 'image_url', image_url: { url } });

export interface GreedyAnswer {
  content: string;
  promptTokens: number;
  completionTokens: number;
  /** Each generated token's text and the log-probabilities of the best two choices, when the server gives them. */
  tokens: { token: string; top: number[] }[];
}

interface ChatCompletion {
  choices?: {
    message?: { content?: string | null };
    logprobs?: { content?: { token: string; top_logprobs?: { logprob: number }[] }[] | null } | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** A greedy, non-streamed chat completion of `maxTokens` tokens at most; throws on any status but 200. */
export async function greedyChat(url: string, messages: ChatMessage[], maxTokens: number): Promise<GreedyAnswer> {
  // cache_prompt (llama-server's; other servers ignore it): each prompt computed whole, as on a fresh server.
  const body = { messages, max_tokens: maxTokens, temperature: 0, logprobs: true, top_logprobs: 2, cache_prompt: false };
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-use-cache': 'false' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}/v1/chat/completions answered ${response.status}: ${text.slice(0, 500)}`);
  const answer = JSON.parse(text) as ChatCompletion;
  const choice = answer.choices?.[0];
  return {
    content: choice?.message?.content ?? '',
    promptTokens: answer.usage?.prompt_tokens ?? NaN,
    completionTokens: answer.usage?.completion_tokens ?? NaN,
    tokens: (choice?.logprobs?.content ?? []).map((t) => ({ token: t.token, top: (t.top_logprobs ?? []).map((p) => p.logprob) })),
  };
}

/** The prompt llama-server renders for `messages` (its /apply-template), images as `MEDIA_MARKER`. */
export async function referencePrompt(url: string, messages: ChatMessage[]): Promise<string> {
  const response = await fetch(`${url}/apply-template`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages }),
  });
  if (response.status !== 200) throw new Error(`${url}/apply-template answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { prompt: string }).prompt;
}

/** The smallest gap between the best two log-probabilities over an answer's tokens (how close greedy came to a tie). */
export function smallestMargin(answer: GreedyAnswer): number {
  const gaps = answer.tokens.filter((t) => t.top.length >= 2).map((t) => t.top[0] - t.top[1]);
  return gaps.length ? Math.min(...gaps) : NaN;
}

/** Packed RGB pixels, 3 bytes a pixel, rows top to bottom. */
export interface Pixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image of one colour: any resampling leaves it as it is. */
export function solidPixels(width: number, height: number, rgb: readonly [number, number, number]): Pixels {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

/** An image of seeded noise: different seeds give different pixels everywhere. */
export function noisePixels(width: number, height: number, seed: number): Pixels {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

/** The pixels as a PNG data URI (lossless: a server decodes the very same pixels). */
export function pngDataUri({ width, height, data }: Pixels): string {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([data[i * 3], data[i * 3 + 1], data[i * 3 + 2], 255], i * 4);
  return `data:image/png;base64,${PNG.sync.write(image).toString('base64')}`;
}

/** A PNG of seeded noise (`noisePixels`), as a data URI. */
export function noisePngDataUri(width: number, height: number, seed: number): string {
  return pngDataUri(noisePixels(width, height, seed));
}
