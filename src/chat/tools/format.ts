// What a model family's tool-call format is to the server: how to recognise it in a chat template,
// the grammar of its calls (so that a forced or started call is always well formed), and how to
// read calls back out of the generated text, whole or as it streams.
import type { TextGrammar } from '../../grammar/text-grammar.js';

/** A tool as the format sees it: `parameters` is the JSON Schema of the arguments object. */
export interface ToolSpec {
  readonly name: string;
  readonly description?: string;
  readonly parameters: Record<string, unknown>;
}

export interface ParsedCall {
  readonly name: string;
  /**
   * The arguments as JSON text. In a partial parse, the part that will not change (a prefix of the
   * final text); in a final parse, the whole text (possibly incomplete when generation was cut).
   */
  readonly arguments: string;
}

export interface ParsedOutput {
  /** The text outside calls (and outside the format's own framing), in order. */
  readonly content: string;
  readonly calls: readonly ParsedCall[];
}

export interface ParseOptions {
  /** False while the text may still grow: hold back what the next text could change. */
  readonly final: boolean;
  /** The prompt opened a reasoning section that the output continues (e.g. it ends with `<think>`). */
  readonly inReasoning?: boolean;
  /** The request's tools (formats that write arguments as text read their types from the schemas). */
  readonly tools?: readonly ToolSpec[];
}

export interface CallCount {
  readonly min: number;
  /** null: any number. */
  readonly max: number | null;
}

export interface ToolCallFormat {
  /** A short name (logs, README, tests): `hermes`, `llama3-json`, ... */
  readonly id: string;
  /** Whether a chat template writes calls in this format (its source text). */
  matches(template: string): boolean;
  /**
   * The texts that open the calls section. With `tool_choice: "auto"` the text before a call may
   * not contain them, and the calls section begins with one of them or of `openingTriggers`
   * (callsGrammar's first bytes).
   */
  readonly triggers: readonly string[];
  /**
   * Texts that open the calls section only at the start of the answer (after whitespace), such as
   * a bare JSON object: with `auto`, text that has started otherwise may contain them.
   */
  readonly openingTriggers?: readonly string[];
  /**
   * Marker texts that may be single special tokens in a vocabulary: a grammar may produce those
   * tokens, and their text reaches the parser. Never an end-of-generation token (the calls section
   * ends where generation ends instead).
   */
  readonly markers: readonly string[];
  /** Ids for the calls, when the template requires a shape of its own (absent: `call_` and 24 letters or digits). */
  readonly callId?: () => string;
  /**
   * Text the template's generation prompt ends with that also opens every call (Functionary v3.2's
   * `>>>`): a forced call is generated after the prompt without it, so that the call grammar starts
   * with its trigger.
   */
  readonly promptOpening?: string;
  /** The reasoning section the template defines, if any: calls inside it are not calls. */
  readonly reasoning?: { readonly start: string; readonly end: string };
  /**
   * The calls section: `count.min` to `count.max` calls (at least one) of the given tools, each
   * with arguments valid under the tool's `parameters`, starting with a trigger.
   */
  callsGrammar(tools: readonly ToolSpec[], count: CallCount): TextGrammar;
  /**
   * Content and calls in `text`. With `final` false the result must only grow as text is appended:
   * content and each call's arguments extended, calls added, never changed otherwise.
   */
  parse(text: string, options: ParseOptions): ParsedOutput;
}
