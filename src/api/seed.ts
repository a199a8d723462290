// A sampling seed: any integer in [0, 2^64), as TGI's u64. Bodies carry integers beyond 2^53 as
// bigint (see json-body.ts), so the value is the one written in the JSON text.
import { z } from 'zod';

const U64_LIMIT = 1n << 64n;

export const SeedSchema = z.unknown().transform((value, ctx): bigint => {
  let seed: bigint | undefined;
  if (typeof value === 'bigint') seed = value;
  else if (typeof value === 'number' && Number.isInteger(value)) seed = BigInt(value);
  if (seed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an integer in [0, 2^64), received ${typeof value === 'number' ? value : typeof value}`,
    });
    return z.NEVER;
  }
  if (seed < 0n || seed >= U64_LIMIT) {
    ctx.addIssue({ code: 'custom', message: `expected an integer in [0, 2^64), received ${seed}` });
    return z.NEVER;
  }
  return seed;
});
