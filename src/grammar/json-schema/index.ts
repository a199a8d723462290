// JSON Schema -> a regular expression (in the dialect of ../regex) whose full matches are JSON
// texts valid under the schema. Soundness first: what cannot be enforced exactly is narrowed
// (never widened) or refused with a SchemaError naming the keyword. See compile.ts for the walk.
import { RegexAutomaton, RegexError } from '../regex/index.js';
import { ANY_TOP_LEVEL_VALUE, ANY_VALUE, anyValue } from './any-json.js';
import { type Generosity, SchemaCompiler, TooLargeError } from './compile.js';
import { WS } from './regex-text.js';
import { SchemaError } from './schema-error.js';

export { SchemaError };

/**
 * From the most generous to the narrowest: any value nested one level, additional members by
 * default and recursive references unrolled twice; then scalars for "any value" and one unrolling;
 * then no additional members unless the schema asks for them and no recursion; then objects whose
 * first member is one of their first three (then first) optional properties.
 */
const LEVELS: readonly Generosity[] = [
  { anyValue: ANY_VALUE, additionalByDefault: true, maxRecursion: 2, maxFirstChoices: Infinity },
  { anyValue: anyValue(0), additionalByDefault: true, maxRecursion: 1, maxFirstChoices: Infinity },
  { anyValue: anyValue(0), additionalByDefault: false, maxRecursion: 0, maxFirstChoices: Infinity },
  { anyValue: anyValue(0), additionalByDefault: false, maxRecursion: 0, maxFirstChoices: 3 },
  { anyValue: anyValue(0), additionalByDefault: false, maxRecursion: 0, maxFirstChoices: 1 },
];

export interface JsonRegexOptions {
  /**
   * Whitespace between JSON tokens. `flexible` (the default): up to 32 spaces, tabs and newlines,
   * enough for indented output (what the checker accepts). `compact`: at most one space, as after
   * Python's ", " and ": ": what generation uses, so that a model cannot spend its tokens on
   * whitespace.
   */
  whitespace?: 'flexible' | 'compact';
}

const COMPACT_WS = ' ?';

export function jsonSchemaToRegex(schema: unknown, options: JsonRegexOptions = {}): string {
  const flexible = jsonSchemaToFlexibleRegex(schema);
  // The compiler writes WS only between JSON tokens (string contents never hold raw whitespace
  // classes: JSON escapes tabs and newlines), so each occurrence is a place between tokens. The
  // compact form is shorter and has fewer NFA states than the flexible one, which was compiled: it
  // is within every bound of the regex compiler too.
  return options.whitespace === 'compact' ? flexible.split(WS).join(COMPACT_WS) : flexible;
}

function jsonSchemaToFlexibleRegex(schema: unknown): string {
  let lastError: SchemaError | undefined;
  for (const generosity of LEVELS) {
    try {
      const regex = new SchemaCompiler(schema, generosity).compile(schema, '');
      // A schema that is nothing but "any value" gets one more level of nesting: it is used once.
      const pattern = `${WS}${regex === ANY_VALUE ? ANY_TOP_LEVEL_VALUE : regex}${WS}`;
      // The length is checked while compiling; the automaton's state bound only by building it.
      RegexAutomaton.compile(pattern);
      return pattern;
    } catch (error) {
      if (error instanceof TooLargeError) lastError = error;
      else if (error instanceof RegexError) lastError = new SchemaError(`the schema's regex is too complex: ${error.message}`, '');
      else throw error;
    }
  }
  throw lastError!;
}
