// Model-load progress: a bar on a terminal, a few log lines otherwise.
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

export interface LoadProgress {
  update(fraction: number): void;
  stop(): void;
}

/** A load that ends within this time shows no progress at all. */
const LOAD_QUIET_MS = 1000;

/**
 * Progress of a model load: nothing for a load that ends within a second (a bar, or five lines
 * within milliseconds, would be noise); after that a bar on a terminal, a line per quarter otherwise.
 */
export function createLoadProgress(
  logger: Logger,
  label: string,
  interactive = process.stderr.isTTY === true,
  now: () => number = () => performance.now(),
): LoadProgress {
  const started = now();
  const quiet = () => now() - started < LOAD_QUIET_MS;
  if (interactive) {
    let bar: cliProgress.SingleBar | undefined;
    return {
      update: (fraction) => {
        if (!bar) {
          if (quiet()) return;
          bar = new cliProgress.SingleBar(
            { format: `${label} [{bar}] {percentage}% | {duration}s`, hideCursor: true, stream: process.stderr, clearOnComplete: false },
            cliProgress.Presets.shades_classic,
          );
          bar.start(100, 0);
        }
        bar.update(Math.round(fraction * 100));
      },
      stop: () => bar?.stop(),
    };
  }
  let lastReported = -1;
  return {
    update: (fraction) => {
      const quarter = Math.floor(fraction * 4);
      if (quarter > lastReported && !quiet()) {
        lastReported = quarter;
        logger.info(`${label}: ${Math.round(fraction * 100)}%`);
      }
    },
    stop: () => {},
  };
}

export interface DownloadProgress {
  update(file: string, done: number, total: number): void;
  end(file: string): void;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Download progress with speed and ETA: a bar on a terminal, a log line every few seconds otherwise. */
export function createDownloadProgress(logger: Logger, interactive = process.stderr.isTTY === true, logEveryMs = 5000): DownloadProgress {
  const started = new Map<string, { at: number; from: number }>();
  const rate = (file: string, done: number) => {
    const start = started.get(file)!;
    const seconds = (performance.now() - start.at) / 1000;
    return seconds > 0 ? (done - start.from) / seconds : 0;
  };
  if (interactive) {
    let bar: cliProgress.SingleBar | undefined;
    return {
      update(file, done, total) {
        if (!bar) {
          started.set(file, { at: performance.now(), from: done });
          bar = new cliProgress.SingleBar(
            {
              format: `${file} [{bar}] {percentage}% | {size} | {speed}/s | ETA {eta_formatted}`,
              hideCursor: true,
              stream: process.stderr,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, done, { size: mib(total), speed: mib(0) });
        }
        bar.update(done, { speed: mib(rate(file, done)) });
      },
      end() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let lastLog = 0;
  return {
    update(file, done, total) {
      if (!started.has(file)) started.set(file, { at: performance.now(), from: done });
      const now = performance.now();
      if (now - lastLog < logEveryMs && done < total) return;
      lastLog = now;
      const speed = rate(file, done);
      const eta = speed > 0 ? `, ETA ${Math.ceil((total - done) / speed)} s` : '';
      logger.info(
        `Downloading ${file}: ${total > 0 ? Math.floor((done / total) * 100) : 100}% (${mib(done)} of ${mib(total)}) at ${mib(speed)}/s${eta}`,
      );
    },
    end(file) {
      started.delete(file);
      lastLog = 0;
    },
  };
}
