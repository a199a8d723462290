// Regular expressions as byte automata: the public face of the regex compiler.
export { RegexAutomaton } from './dfa.js';
export { RegexError } from './error.js';
