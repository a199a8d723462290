// One logger for the process: human-readable lines by default, JSON lines with --json-output.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

const LEVEL_SHORTHANDS: Record<string, string> = { warn: 'warn', info: 'info', debug: 'debug', trace: 'trace', error: 'error' };

export function logLevelFromEnv(value = process.env.LOG_LEVEL): string {
  if (!value) return 'info';
  const first = value.split(',')[0].trim().toLowerCase();
  return LEVEL_SHORTHANDS[first] ?? 'info';
}

export function createLogger(json: boolean, level = logLevelFromEnv()): Logger {
  if (json) return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  const colorize = process.env.LOG_COLORIZE === '1' ? false : process.stdout.isTTY;
  const stream = pretty({ colorize, sync: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,component' });
  return pino({ level, base: undefined }, stream);
}
