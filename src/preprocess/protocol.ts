// What the HTTP thread and the preprocessing thread say to each other, and the errors preprocessing
// can raise (an input the template cannot take, a template failure), which arrive as their class.
import type { ChatPromptInput } from '../chat/prompt.js';
import type { TemplateSource } from '../chat/template-source.js';
import { MessageError } from '../chat/messages.js';
import { TemplateError } from '../chat/template.js';
import { ErrorCodec } from '../threads/error-codec.js';

export interface PreprocessWorkerConfig {
  modelPath: string;
  template: TemplateSource;
  /** Where image parts go in a rendered prompt (absent: the model takes text only). */
  imageMarker?: string;
}

export type PreprocessJob =
  | { op: 'tokenize'; text: string; addSpecial: boolean }
  | { op: 'spans'; text: string; addSpecial: boolean }
  | { op: 'render'; input: ChatPromptInput };

export interface PreprocessResult {
  ids?: Int32Array;
  text?: string;
}

export type PreprocessProtocol = {
  calls: { run: { params: PreprocessJob; result: PreprocessResult } };
  toThread: Record<string, never>;
  toHost: Record<string, never>;
  ready: undefined;
};

export const preprocessErrors = new ErrorCodec([MessageError, TemplateError]);
