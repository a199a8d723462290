// Grammar pieces every format uses: a run of calls with a separator, and the free text of `auto`.
import { tg, type TextGrammar } from '../../grammar/text-grammar.js';
import type { CallCount } from './format.js';

/** `count.min` to `count.max` of `call`, `separator` between two. */
export function callRun(call: TextGrammar, separator: TextGrammar, count: CallCount): TextGrammar {
  const min = Math.max(1, count.min);
  const more = count.max === null ? null : Math.max(0, count.max - 1);
  return tg.seq(call, tg.repeat(tg.seq(separator, call), min - 1, more));
}
