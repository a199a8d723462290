import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseGguf, chooseProjector } from '../../src/hub/choose-gguf.js';

const files = (...entries: [string, number][]) => entries.map(([path, size]) => ({ path, size }));

describe('choosing the GGUF of a repository', () => {
  const repo = files(
    ['README.md', 10],
    ['model-f16.gguf', 1000],
    ['model-q8_0.gguf', 500],
    ['model-Q4_K_M.gguf', 300],
    ['model-q4_0_4_4.gguf', 250],
    ['mmproj-model-f16.gguf', 50],
  );

  it('prefers Q4_K_M, then Q4_0, Q5_K_M, Q8_0, F16', () => {
    assert.equal(chooseGguf(repo).primary, 'model-Q4_K_M.gguf');
    assert.equal(chooseGguf(repo.filter((f) => !f.path.includes('K_M'))).primary, 'model-q8_0.gguf');
    assert.equal(chooseGguf(files(['a-f16.gguf', 9], ['a-q4_0.gguf', 5])).primary, 'a-q4_0.gguf');
  });

  it('does not take Q4_0_4_4 for Q4_0, nor a vision projector for a model', () => {
    assert.equal(chooseGguf(files(['m-q4_0_4_4.gguf', 5], ['m-f16.gguf', 9])).primary, 'm-f16.gguf');
    assert.throws(() => chooseGguf(files(['mmproj-x.gguf', 5])), /no GGUF model file/);
  });

  it('takes the smallest when no preferred quantization is there', () => {
    assert.equal(chooseGguf(files(['big.gguf', 9], ['small.gguf', 3], ['mid.gguf', 5])).primary, 'small.gguf');
  });

  it('a named file wins, by path or file name', () => {
    assert.equal(chooseGguf(repo, 'model-f16.gguf').primary, 'model-f16.gguf');
    assert.equal(chooseGguf(files(['sub/x.gguf', 1], ['y.gguf', 1]), 'x.gguf').primary, 'sub/x.gguf');
    assert.throws(() => chooseGguf(repo, 'nope.gguf'), /no GGUF file named nope\.gguf; available: .*model-q8_0\.gguf/);
  });

  it('split GGUFs count as one model: all parts, first part loaded, sizes summed', () => {
    const split = files(['m-Q8_0-00002-of-00002.gguf', 400], ['m-Q8_0-00001-of-00002.gguf', 400], ['m-small.gguf', 500]);
    assert.deepEqual(chooseGguf(split), {
      files: ['m-Q8_0-00001-of-00002.gguf', 'm-Q8_0-00002-of-00002.gguf'],
      primary: 'm-Q8_0-00001-of-00002.gguf',
    });
    assert.equal(chooseGguf(files(['a-00001-of-00002.gguf', 400], ['a-00002-of-00002.gguf', 400], ['b.gguf', 500])).primary, 'b.gguf');
    assert.equal(chooseGguf(split, 'm-Q8_0-00001-of-00002.gguf').files.length, 2);
  });

  it('no GGUF at all is an error', () => {
    assert.throws(() => chooseGguf(files(['README.md', 1])), /no GGUF model file found/);
  });
});

describe('choosing the vision projector beside the model', () => {
  it('prefers F16, then BF16, F32, Q8_0; BF16 is not taken for F16', () => {
    const repo = files(
      ['model-Q4_K_M.gguf', 300],
      ['mmproj-model-Q8_0.gguf', 30],
      ['mmproj-model-f16.gguf', 50],
      ['mmproj-model-bf16.gguf', 50],
    );
    assert.equal(chooseProjector(repo, 'model-Q4_K_M.gguf'), 'mmproj-model-f16.gguf');
    const noF16 = repo.filter((f) => !f.path.endsWith('-f16.gguf'));
    assert.equal(chooseProjector(noF16, 'model-Q4_K_M.gguf'), 'mmproj-model-bf16.gguf');
    assert.equal(chooseProjector(files(['m.gguf', 9], ['mmproj-F32.gguf', 80], ['mmproj-Q8_0.gguf', 20]), 'm.gguf'), 'mmproj-F32.gguf');
    assert.equal(chooseProjector(files(['m.gguf', 9], ['mmproj-Q4_K.gguf', 10], ['mmproj-Q8_0.gguf', 20]), 'm.gguf'), 'mmproj-Q8_0.gguf');
  });

  it('takes the smallest when no preferred precision is named; names with mmproj anywhere count', () => {
    assert.equal(chooseProjector(files(['m.gguf', 9], ['mmproj-a.gguf', 40], ['m.mmproj-b.gguf', 20]), 'm.gguf'), 'm.mmproj-b.gguf');
  });

  it("a projector of the model's own folder comes before better ones elsewhere", () => {
    const repo = files(['a/model.gguf', 9], ['a/mmproj-Q8_0.gguf', 20], ['mmproj-F16.gguf', 40], ['b/mmproj-F16.gguf', 40]);
    assert.equal(chooseProjector(repo, 'a/model.gguf'), 'a/mmproj-Q8_0.gguf');
    assert.equal(chooseProjector(repo.slice(0, 1).concat(repo.slice(3)), 'a/model.gguf'), 'b/mmproj-F16.gguf');
  });

  it('none without an mmproj GGUF (imatrix files and other GGUFs are not projectors)', () => {
    assert.equal(chooseProjector(files(['m.gguf', 9], ['m.imatrix.gguf', 5], ['mmproj.txt', 1], ['other.gguf', 3]), 'm.gguf'), undefined);
  });
});
