// The preprocessing thread: tokenizes and renders chat templates for requests too large to handle
// on the HTTP thread, which stays free to answer /health and to feed running streams meanwhile.
import { workerData } from 'node:worker_threads';
import { LlamaModel } from '../engine/llama/model.js';
import { ChatPrompter } from '../chat/prompt.js';
import { ThreadPort, Transfer } from '../threads/rpc.js';
import { tokenSpansJson } from './token-spans.js';
import { preprocessErrors, type PreprocessProtocol, type PreprocessWorkerConfig } from './protocol.js';

const port = new ThreadPort<PreprocessProtocol>(preprocessErrors);
const config = workerData as PreprocessWorkerConfig;

function start(): void {
  let model: LlamaModel;
  let prompter: ChatPrompter;
  try {
    model = LlamaModel.load(config.modelPath, { vocabOnly: true });
    prompter = ChatPrompter.create(config.template, model.vocabulary, config.imageMarker);
  } catch (error) {
    port.fail(error);
    return;
  }
  const vocabulary = model.vocabulary;
  port.serve(undefined, {
    run: (job) => {
      if (job.op === 'tokenize') {
        const ids = vocabulary.tokenize(job.text, job.addSpecial);
        return new Transfer({ ids }, [ids.buffer as ArrayBuffer]);
      }
      if (job.op === 'spans') return { text: tokenSpansJson(vocabulary, job.text, job.addSpecial) };
      return { text: prompter.render(job.input) };
    },
  });
}

start();
