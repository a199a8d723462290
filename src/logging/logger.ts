// One logger for the process: human-readable lines by default, JSON lines with --json-output.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

const LEVEL_SHORTHANDS: Record<string, string> = { warn: 'warn', info: 'info', debug: 'debug', trace: 'trace', error: 'error' };

/** A LOG_LEVEL value as a level: TGI's filter form "info,text_generation=debug" reads as its first level; info when unset or unknown. */
export function parseLogLevel(value: string | undefined): string {
  if (!value) return 'info';
  const first = value.split(',')[0].trim().toLowerCase();
  return LEVEL_SHORTHANDS[first] ?? 'info';
}

/** `colors`: false keeps human-readable lines plain even on a terminal (LOG_COLORIZE=1, as in TGI). */
export function createLogger(json: boolean, level = 'info', colors = true): Logger {
  if (json) return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  const colorize = colors ? process.stdout.isTTY : false;
  const stream = pretty({ colorize, sync: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,component' });
  return pino({ level, base: undefined }, stream);
}
