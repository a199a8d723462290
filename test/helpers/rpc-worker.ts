// A tiny thread for the RPC helper's tests: its workerData says how it starts, its calls exercise
// results, transfers, typed errors and exits.
import { isMainThread, workerData } from 'node:worker_threads';
import { ThreadPort, Transfer } from '../../src/threads/rpc.js';
import { FieldError, type StartMode, testErrors, type TestProtocol, Unregistered } from './rpc-protocol.js';

// Only as a thread: the test runner, given dist/test/, also loads this file on its own.
if (!isMainThread) start();

function start(): void {
  const port = new ThreadPort<TestProtocol>(testErrors);
  const mode = workerData as StartMode;
  port.emit('progress', 0.5);
  if (mode === 'fail') port.fail(new FieldError('model', 'no such model', true));
  else if (mode === 'exit') process.exit(7);
  else if (mode === 'throw') throw new Error('thrown at start');
  else {
    port.serve(
      { greeting: 'hello' },
      {
        echo: (text) => text,
        bytes: (n) => {
          const bytes = new Uint8Array(n).fill(1);
          return new Transfer(bytes, [bytes.buffer]);
        },
        fail: (how) => {
          if (how === 'field') throw new FieldError('messages.0', 'bad message', true);
          if (how === 'unregistered') throw new Unregistered('not known');
          if (how === 'async') return Promise.reject(new FieldError('x', 'later'));
          throw 'a string';
        },
        exit: (code) => process.exit(code),
        hang: () => new Promise<never>(() => undefined),
      },
      { ping: (n) => port.emit('pong', n + 1) },
    );
  }
}
