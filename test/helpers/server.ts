// Starts the real server (real engine, real model) on a loopback port, and reads its JSON log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { stopChild } from '../../src/bench/llama-server.js';
import { STORIES } from './models.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MAIN = join(root, 'dist', 'src', 'cli', 'main.js');

export interface RunningServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  /** The startup summary record of the JSON log (model, limits, engine, url). */
  summary: Record<string, any>;
  stop(): Promise<void>;
}

export function startServer(args: string[] = [], env: Record<string, string> = {}, model = STORIES): Promise<RunningServer> {
  return spawnServer(args, env, model).ready;
}

/** A server whose port is open while its model still loads: `url` now, `ready` once loaded. */
export interface LoadingServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  ready: Promise<RunningServer>;
  stop(): Promise<void>;
}

export async function startLoadingServer(args: string[] = [], env: Record<string, string> = {}, model = STORIES): Promise<LoadingServer> {
  const spawned = spawnServer(args, env, model);
  spawned.ready.catch(() => undefined);
  const url = await spawned.open;
  return { url, process: spawned.process, logs: spawned.logs, ready: spawned.ready, stop: () => stopChild(spawned.process) };
}

function spawnServer(
  args: string[],
  env: Record<string, string>,
  model: string,
): { process: ChildProcess; logs: string[]; open: Promise<string>; ready: Promise<RunningServer> } {
  let opened: (url: string) => void = () => undefined;
  let failedToOpen: (error: Error) => void = () => undefined;
  const open = new Promise<string>((resolveOpen, rejectOpen) => {
    opened = resolveOpen;
    failedToOpen = rejectOpen;
  });
  const child = spawn(
    process.execPath,
    [MAIN, '--model-id', model, '--hostname', '127.0.0.1', '--port', '0', '--threads', '1', '--json-output', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // A server that exits before its port opens rejects `open` too; callers of `ready` alone never await it.
  open.catch(() => undefined);
  const logs: string[] = [];
  const ready = new Promise<RunningServer>((resolvePromise, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${logs.join('\n')}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        try {
          const record = JSON.parse(line) as { url?: string; loadingUrl?: string };
          if (record.loadingUrl) opened(record.loadingUrl.replace('localhost', '127.0.0.1'));
          if (record.url) {
            clearTimeout(timer);
            resolvePromise({
              url: record.url.replace('localhost', '127.0.0.1'),
              process: child,
              logs,
              summary: record,
              stop: () => stopChild(child),
            });
          }
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      const error = new Error(`server exited with code ${code}:\n${logs.join('\n')}`);
      failedToOpen(error);
      reject(error);
    });
  });
  return { process: child, logs, open, ready };
}

/** Runs the launcher to its end (--help, a configuration error...): its output and exit status. */
export function runLauncher(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

/** The launcher's --help, its whitespace collapsed to single spaces. */
export function helpText(): string {
  return runLauncher(['--help']).stdout.replace(/\s+/g, ' ');
}

/** The messages of a server's JSON log lines, in order. */
export function logMessages(logs: readonly string[]): string[] {
  return logs.flatMap((line) => {
    try {
      return [String((JSON.parse(line) as { msg?: unknown }).msg)];
    } catch {
      return [];
    }
  });
}
