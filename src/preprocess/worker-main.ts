// The preprocessing thread: tokenizes and renders chat templates for requests too large to handle
// on the HTTP thread, which stays free to answer /health and to feed running streams meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { LlamaModel } from '../engine/llama/model.js';
import { ChatPrompter } from '../chat/prompt.js';
import { MessageError } from '../chat/messages.js';
import { TemplateError } from '../chat/template.js';
import { tokenSpansJson } from './token-spans.js';
import type { FromPreprocessor, PreprocessFailure, PreprocessWorkerConfig, ToPreprocessor } from './protocol.js';

const port = parentPort!;
const config = workerData as PreprocessWorkerConfig;
const send = (message: FromPreprocessor, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

function failureOf(error: unknown): PreprocessFailure {
  if (error instanceof MessageError) return { kind: 'message', message: error.message, param: error.param };
  if (error instanceof TemplateError) return { kind: 'template', message: error.message };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}

function start(): void {
  let model: LlamaModel;
  let prompter: ChatPrompter;
  try {
    model = LlamaModel.load(config.modelPath, { vocabOnly: true });
    prompter = ChatPrompter.create(config.template, model.vocabulary);
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const vocabulary = model.vocabulary;
  port.on('message', (job: ToPreprocessor) => {
    try {
      if (job.op === 'tokenize') {
        const ids = vocabulary.tokenize(job.text, job.addSpecial);
        send({ type: 'done', id: job.id, ids }, [ids.buffer as ArrayBuffer]);
      } else if (job.op === 'spans') {
        send({ type: 'done', id: job.id, text: tokenSpansJson(vocabulary, job.text, job.addSpecial) });
      } else {
        send({ type: 'done', id: job.id, text: prompter.render(job.input) });
      }
    } catch (error) {
      send({ type: 'error', id: job.id, failure: failureOf(error) });
    }
  });
  send({ type: 'ready' });
}

start();
