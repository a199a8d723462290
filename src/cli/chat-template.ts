// Which chat template the server uses: --chat-template FILE, else the template of
// --tokenizer-config-path, else the GGUF's tokenizer.chat_template, else the ChatML fallback.
import { fallbackTemplate, templateFromFile, templateFromTokenizerConfig, type TemplateSource } from '../chat/template-source.js';
import { ConfigError } from './config.js';

export interface TemplateOptions {
  chatTemplate?: string;
  tokenizerConfigPath?: string;
}

export function resolveTemplateSource(options: TemplateOptions, ggufTemplate: string | undefined): TemplateSource {
  try {
    const config = options.tokenizerConfigPath ? templateFromTokenizerConfig(options.tokenizerConfigPath) : undefined;
    if (options.chatTemplate) return { ...templateFromFile(options.chatTemplate), bosToken: config?.bosToken, eosToken: config?.eosToken };
    if (config) return config;
    if (ggufTemplate) return { source: ggufTemplate, origin: 'GGUF metadata (tokenizer.chat_template)', fallback: false };
    return fallbackTemplate();
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}
