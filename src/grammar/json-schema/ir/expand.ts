// A node made into its set of values by type, one level deep (members and items stay nodes).
// Cached per node key; a $ref that reaches itself without a JSON value in between is refused.
import { SchemaError } from '../schema-error.js';
import { NotExact } from './language.js';
import { CircularDefinition, keyOf, type Node, originOf } from './node.js';
import { ALL_TYPES, andSets, NO_TYPES, notSet, orAllSets, type TypeSet } from './type-set.js';

export class Expander {
  private readonly cache = new Map<string, TypeSet>();
  private readonly expanding = new Set<string>();

  expand(node: Node): TypeSet {
    switch (node.k) {
      case 'any':
        return ALL_TYPES;
      case 'none':
        return NO_TYPES;
      case 'types':
        return node.set;
      default:
    }
    const key = keyOf(node);
    const known = this.cache.get(key);
    if (known) return known;
    if (this.expanding.has(key)) throw new SchemaError('the schema refers to itself without any JSON value in between', '');
    this.expanding.add(key);
    try {
      const set = this.compute(node);
      this.cache.set(key, set);
      return set;
    } catch (error) {
      if (error instanceof CircularDefinition) throw new SchemaError(error.message, originOf(node) ?? '');
      if (error instanceof SchemaError && error.path === '' && originOf(node)) throw new SchemaError(error.message, originOf(node)!);
      throw error;
    } finally {
      this.expanding.delete(key);
    }
  }

  private compute(node: Node): TypeSet {
    switch (node.k) {
      case 'ref':
        return this.expand(node.def.body());
      case 'and':
        return node.items.map((item) => this.expand(item)).reduce(andSets);
      case 'or':
        return orAllSets(node.items.map((item) => this.expand(item)));
      case 'not':
        try {
          return notSet(this.expand(node.item));
        } catch (error) {
          if (error instanceof NotExact)
            throw new SchemaError('not (or an exclusive oneOf) over a constraint that is only enforced approximately is not supported', '');
          throw error;
        }
      default:
        throw new Error(`${node.k} expands directly`);
    }
  }
}
