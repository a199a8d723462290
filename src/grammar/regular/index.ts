// Regular languages as explicit DFAs: the algebra a grammar needs where a JSON Schema combines
// constraints on one string or number (pattern and length, not, oneOf of scalars, multipleOf and
// a range), results embedded back into grammars as nodes.
export {
  accepts,
  determinize,
  dfaNode,
  EMPTY_LANGUAGE,
  explicit,
  isEmpty,
  lazy,
  minimize,
  product,
  RegularError,
  trim,
  type DfaLike,
  type ProductMode,
} from './dfa-ops.js';
