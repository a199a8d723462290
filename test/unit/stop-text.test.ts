import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cutAtStop, StopTextFilter } from '../../src/server/openai-output.js';

function run(stops: string[], pieces: string[]): { sent: string[]; rest: string } {
  const filter = new StopTextFilter(stops);
  const sent = pieces.map((p) => filter.push(p));
  return { sent, rest: filter.flush() };
}

describe('stop text', () => {
  it('cuts the text before the earliest stop string', () => {
    assert.equal(cutAtStop('a cat sat on the mat', ['mat', 'sat']), 'a cat ');
    assert.equal(cutAtStop('no stop here', ['zzz']), 'no stop here');
  });

  it('holds back a possible stop string until it is decided', () => {
    const { sent, rest } = run(['named Li'], [' girl', ' na', 'med', ' L', 'ily']);
    assert.deepEqual(sent, [' girl', ' ', '', '', '']);
    assert.equal(rest, '');
  });

  it('releases held text when it turns out not to be a stop string', () => {
    const { sent, rest } = run(['STOP'], ['a S', 'T', 'x', 'ST']);
    assert.deepEqual(sent, ['a ', '', 'STx', '']);
    assert.equal(rest, 'ST');
  });

  it('passes everything through without stop strings', () => {
    const { sent } = run([], ['a', 'b']);
    assert.deepEqual(sent, ['a', 'b']);
  });

  it('sends nothing after the stop string', () => {
    const { sent } = run(['.'], ['Hi. ', 'more']);
    assert.deepEqual(sent, ['Hi', '']);
  });
});
