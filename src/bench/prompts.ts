// Benchmark prompts of an exact token length, cut with the server's own /tokenize.
import { SeededRandom } from '../sampling/random.js';

const WORDS = (
  'the a little girl boy named Lily Tom Ben Sue went to park school house river forest happy sad big small red blue green ' +
  'dog cat bird tree flower ball car book cake sun moon star friend mother father played ran jumped saw found wanted ' +
  'said asked looked walked together every day night morning because but and then when after before very quickly slowly'
).split(' ');

export function randomText(words: number, seed: number): string {
  const random = new SeededRandom(seed);
  return Array.from({ length: words }, () => WORDS[random.nextUint32() % WORDS.length]).join(' ');
}

interface Piece {
  id: number;
  piece: string | number[];
}

interface Span {
  id: number;
  start: number;
  stop: number;
}

/**
 * Cuts `text` to exactly `tokens` tokens (special tokens the server adds are not counted), with the
 * server's own /tokenize: TGI's (offsets of each token) or llama-server's (each token's text).
 */
export async function cutToTokens(url: string, text: string, tokens: number): Promise<string> {
  const body = { inputs: text, content: text, add_special: false, with_pieces: true };
  const response = await fetch(`${url}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`/tokenize answered ${response.status}`);
  const answer = (await response.json()) as Span[] | { tokens: Piece[] };
  if (!Array.isArray(answer)) {
    const pieces = answer.tokens;
    if (pieces.length < tokens || pieces.slice(0, tokens).some((p) => typeof p.piece !== 'string'))
      throw new Error(`text has only ${pieces.length} whole tokens, ${tokens} wanted`);
    return pieces
      .slice(0, tokens)
      .map((p) => p.piece)
      .join('');
  }
  const spans = answer.filter((s) => s.stop > s.start);
  if (spans.length < tokens) throw new Error(`text has only ${spans.length} tokens, ${tokens} wanted`);
  return Buffer.from(text, 'utf8')
    .subarray(0, spans[tokens - 1].stop)
    .toString('utf8');
}

/** `count` distinct prompts of exactly `tokens` tokens each. */
export async function promptsOfLength(url: string, count: number, tokens: number, seed = 1): Promise<string[]> {
  const prompts: string[] = [];
  for (let i = 0; i < count; i++) prompts.push(await cutToTokens(url, randomText(tokens * 2, seed + i), tokens));
  return prompts;
}
