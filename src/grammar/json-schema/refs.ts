// $ref within the document: "#", "#/$defs/...", "#/definitions/..." and any other JSON Pointer.
import { SchemaError } from './schema-error.js';

export function resolveRef(root: unknown, ref: unknown, path: string): unknown {
  if (typeof ref !== 'string' || !ref.startsWith('#')) {
    throw new SchemaError(`$ref ${JSON.stringify(ref)} is not supported: only references within the schema (#...)`, `${path}/$ref`);
  }
  const pointer = decodeURIComponent(ref.slice(1));
  if (pointer !== '' && !pointer.startsWith('/'))
    throw new SchemaError(`$ref ${JSON.stringify(ref)} is not supported: anchors are not`, `${path}/$ref`);
  let target: unknown = root;
  for (const token of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof target !== 'object' || target === null || !Object.hasOwn(target, key)) {
      throw new SchemaError(`$ref ${JSON.stringify(ref)} points to nothing`, `${path}/$ref`);
    }
    target = (target as Record<string, unknown>)[key];
  }
  return target;
}
