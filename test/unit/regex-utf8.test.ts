import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeUtf8, utf8Sequences, type ByteRangeSequence } from '../../src/grammar/regex/utf8.js';

function accepts(sequence: ByteRangeSequence, bytes: number[]): boolean {
  return sequence.length === 2 * bytes.length && bytes.every((byte, i) => byte >= sequence[2 * i] && byte <= sequence[2 * i + 1]);
}

const scalar = fc
  .oneof(fc.integer({ min: 0, max: 0x10ffff }), fc.constantFrom(0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff))
  .filter((c) => c < 0xd800 || c > 0xdfff);

describe('UTF-8 byte-range sequences', () => {
  it('the whole scalar range gives the well-formed UTF-8 table', () => {
    const hex = (sequence: ByteRangeSequence) => sequence.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    assert.deepEqual(utf8Sequences(0, 0x10ffff).map(hex), [
      '00 7F',
      'C2 DF 80 BF',
      'E0 E0 A0 BF 80 BF',
      'E1 EC 80 BF 80 BF',
      'ED ED 80 9F 80 BF',
      'EE EF 80 BF 80 BF',
      'F0 F0 90 BF 80 BF 80 BF',
      'F1 F3 80 BF 80 BF 80 BF',
      'F4 F4 80 8F 80 BF 80 BF',
    ]);
  });

  it('a range of surrogates only has no sequence', () => {
    assert.deepEqual(utf8Sequences(0xd800, 0xdfff), []);
  });

  it('the encoding of a scalar is accepted by exactly one sequence of a range holding it, by none otherwise', () => {
    fc.assert(
      fc.property(scalar, scalar, scalar, (a, b, probe) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const bytes = encodeUtf8(probe);
        assert.deepEqual(bytes, [...new TextEncoder().encode(String.fromCodePoint(probe))]);
        const accepting = utf8Sequences(lo, hi).filter((sequence) => accepts(sequence, bytes)).length;
        assert.equal(accepting, probe >= lo && probe <= hi ? 1 : 0, `U+${probe.toString(16)} in [${lo.toString(16)}, ${hi.toString(16)}]`);
      }),
      { seed: 20261202, numRuns: 20_000 },
    );
  });
});
