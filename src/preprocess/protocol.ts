// Messages between the HTTP thread and the preprocessing thread.
import type { ChatPromptInput } from '../chat/prompt.js';
import type { TemplateSource } from '../chat/template-source.js';

export interface PreprocessWorkerConfig {
  modelPath: string;
  template: TemplateSource;
}

export type PreprocessJob =
  | { op: 'tokenize'; text: string; addSpecial: boolean }
  | { op: 'spans'; text: string; addSpecial: boolean }
  | { op: 'render'; input: ChatPromptInput };

export type ToPreprocessor = PreprocessJob & { id: number };

/** An input the template cannot take (`param` set) or a template failure. */
export interface PreprocessFailure {
  kind: 'message' | 'template' | 'other';
  message: string;
  param?: string;
}

export type FromPreprocessor =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; ids?: Int32Array; text?: string }
  | { type: 'error'; id: number; failure: PreprocessFailure };
