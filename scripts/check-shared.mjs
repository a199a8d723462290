// `npm test` runs this first: the tests read models, vocabularies, chat templates and schemas from
// the shared folder beside the checkout. Without it, one line says what is missing, and the run stops.
// Usage: node scripts/check-shared.mjs [shared folder]
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(process.argv[2] ?? join(root, '..', 'shared'));
const needed = [
  'models/stories260K.gguf',
  ...['llama-spm', 'llama-bpe', 'qwen2', 'gpt-2', 'phi-3'].map((name) => `models/vocab/ggml-vocab-${name}.gguf`),
  'chat-templates',
  'structured-output/maskbench-dev',
];
const missing = existsSync(shared) ? needed.filter((path) => !existsSync(join(shared, path))) : [];
if (!existsSync(shared) || missing.length > 0) {
  const what = existsSync(shared) ? `${shared} lacks ${missing.join(', ')}` : `${shared} does not exist`;
  console.error(
    `npm test needs the shared test folder beside the checkout (models/stories260K.gguf and the rest): ${what}; README.md, section "Tests", says where to get it.`,
  );
  process.exit(1);
}
