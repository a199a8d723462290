// Model-load progress: a bar on a terminal, a few log lines otherwise.
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';

export interface LoadProgress {
  update(fraction: number): void;
  stop(): void;
}

export function createLoadProgress(logger: Logger, label: string, interactive = process.stderr.isTTY === true): LoadProgress {
  if (interactive) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {duration}s`, hideCursor: true, stream: process.stderr, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(100, 0);
    return {
      update: (fraction) => bar.update(Math.round(fraction * 100)),
      stop: () => bar.stop(),
    };
  }
  let lastReported = -1;
  return {
    update: (fraction) => {
      const quarter = Math.floor(fraction * 4);
      if (quarter > lastReported) {
        lastReported = quarter;
        logger.info(`${label}: ${Math.round(fraction * 100)}%`);
      }
    },
    stop: () => {},
  };
}
