// Grammar pieces every format uses: a run of calls with a separator.
import { tg, type TextGrammar } from '../../grammar/text-grammar.js';
import type { CallCount } from './format.js';

/** `count.min` to `count.max` of `call` (at least one), `separator` between two. */
export function callRun(call: TextGrammar, separator: TextGrammar, count: CallCount): TextGrammar {
  return tg.list(call, separator, count.min, count.max);
}
