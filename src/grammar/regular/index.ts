// Regular languages as explicit DFAs: the algebra a grammar needs where a JSON Schema combines
// constraints on one string or number (pattern and length, not, oneOf of scalars, multipleOf and
// a range), results embedded back into grammars as nodes.
export { accepts, determinize, dfaNode, isEmpty, lazy, minimize, product, RegularError, trim, type DfaLike } from './dfa-ops.js';
