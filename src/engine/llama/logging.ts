// Routes llama.cpp's own log lines (stderr by default) to a callback, per thread.
import { loadLlamaApi } from './binding.js';

export type LlamaLogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<number, LlamaLogLevel> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' };

export function routeLlamaLogs(sink: (level: LlamaLogLevel, text: string) => void): void {
  let last: LlamaLogLevel = 'info';
  loadLlamaApi().setLogSink((level, text) => {
    // Level 5 continues the previous line.
    last = level === 5 ? last : (LEVELS[level] ?? 'debug');
    const line = text.replace(/\n$/, '');
    if (line.length > 0) sink(last, line);
  });
}
