// Incremental detokenization with a real vocabulary (stories260K's SentencePiece tokenizer).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { IncrementalDetokenizer, decodeGenerated } from '../../src/scheduler/detokenizer.js';
import { StopCriteria } from '../../src/scheduler/stop-criteria.js';
import { STORIES } from '../helpers/models.js';

describe('incremental detokenizer', () => {
  let model: LlamaModel;
  before(() => {
    model = LlamaModel.load(STORIES, { vocabOnly: true });
  });

  it('emits whole characters only, and the pieces add up to the text', () => {
    const tokenizer = model.vocabulary;
    const prompt = Array.from(tokenizer.tokenize('Once upon a time', true));
    const continuation = Array.from(tokenizer.tokenize('café 😊 and Lily', false));
    const ids = [...prompt];
    const detokenizer = new IncrementalDetokenizer(tokenizer, ids, prompt.length);
    const pieces: string[] = [];
    for (const id of continuation) {
      ids.push(id);
      pieces.push(detokenizer.next());
    }
    assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
    assert.ok(pieces.includes(''), 'the emoji bytes should be held back until complete');
    assert.equal(pieces.join(''), ' café 😊 and Lily');
    assert.equal(decodeGenerated(tokenizer, prompt.at(-1), continuation), ' café 😊 and Lily');
  });

  it('stop criteria check length first, then end of generation, then stop strings', () => {
    const stop = new StopCriteria(3, ['Lily'], (id) => id === 2);
    assert.equal(stop.check(5, ' Li', 1), undefined);
    assert.equal(stop.check(6, 'ly', 2), 'stop_sequence');
    assert.equal(new StopCriteria(1, ['x'], (id) => id === 2).check(2, 'x', 1), 'length');
    assert.equal(new StopCriteria(5, ['x'], (id) => id === 2).check(2, 'x', 1), 'eos_token');
  });
});
