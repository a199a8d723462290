// Where a model's chat template comes from: a file given on the command line, a Hugging Face
// tokenizer_config.json, GGUF metadata (read by the engine), or the ChatML fallback.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { CHATML_FALLBACK } from './chatml.js';

export { CHATML_FALLBACK };

export interface TemplateSource {
  source: string;
  /** Human description of where the template came from, for logs and errors. */
  origin: string;
  bosToken?: string;
  eosToken?: string;
  /** True for the ChatML fallback used when the model has no template. */
  fallback: boolean;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`cannot read ${what} ${path}: ${reason}`, { cause: error });
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `chat_template` as Hugging Face stores it: a string, or a list of `{name, template}` entries of
 * which the one named "default" is the chat template.
 */
function chatTemplateField(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const entry = value.find((item) => isObject(item) && item.name === 'default');
    if (entry === undefined) return undefined;
    if (typeof entry.template !== 'string') throw new Error(`${path}: the "default" chat_template entry has no string "template"`);
    return entry.template;
  }
  throw new Error(`${path}: chat_template must be a string or a list of {name, template}`);
}

/** A special token as tokenizer_config.json gives it: a string or an object with `content`. */
function specialTokenField(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

function fromChatTemplateJson(config: unknown, path: string): TemplateSource {
  const source = isObject(config) ? chatTemplateField(config.chat_template, path) : undefined;
  if (source === undefined) throw new Error(`${path} has no "chat_template"`);
  return { source, origin: `file ${path}`, fallback: false };
}

/**
 * `--chat-template FILE`: either a raw Jinja template or a chat_template.json (`{"chat_template": ...}`).
 * A `.json` file must be valid JSON; any other file is JSON when it parses as a JSON object, else Jinja.
 */
export function templateFromFile(path: string): TemplateSource {
  const text = readText(path, 'chat template file');
  if (extname(path).toLowerCase() === '.json') return fromChatTemplateJson(parseJson(text, path), path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { source: text, origin: `file ${path}`, fallback: false };
  }
  if (isObject(json)) return fromChatTemplateJson(json, path);
  return { source: text, origin: `file ${path}`, fallback: false };
}

/** A Hugging Face tokenizer_config.json; undefined when it carries no chat template. */
export function templateFromTokenizerConfig(path: string): TemplateSource | undefined {
  const config = parseJson(readText(path, 'tokenizer config'), path);
  if (!isObject(config)) throw new Error(`${path} is not a JSON object`);
  const source = chatTemplateField(config.chat_template, path);
  if (source === undefined) return undefined;
  return {
    source,
    origin: `tokenizer config ${path}`,
    bosToken: specialTokenField(config.bos_token),
    eosToken: specialTokenField(config.eos_token),
    fallback: false,
  };
}

export function fallbackTemplate(): TemplateSource {
  return { source: CHATML_FALLBACK, origin: 'ChatML fallback (the model has no chat template)', fallback: true };
}
