// Context-free grammars over bytes (rules that call rules), followed as a ByteAutomaton.
export { GrammarBuilder, type Grammar } from './grammar.js';
export { GrammarError } from './error.js';
export { PushdownAutomaton, type PushdownParts } from './pushdown.js';
export * as g from './nodes.js';
