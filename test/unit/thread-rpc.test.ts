import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodec } from '../../src/threads/error-codec.js';
import { ThreadHost, ThreadStopped } from '../../src/threads/rpc.js';
import { FieldError, type StartMode, testErrors, type TestProtocol, Unregistered } from '../helpers/rpc-protocol.js';

const WORKER = new URL('../helpers/rpc-worker.js', import.meta.url);

function start(mode: StartMode, progress: number[] = []) {
  return ThreadHost.start<TestProtocol>(WORKER, {
    label: 'the test thread',
    workerData: mode,
    errors: testErrors,
    on: { progress: (p) => progress.push(p) },
  });
}

describe('ThreadHost and ThreadPort', () => {
  it('starts with progress events, answers calls and events, and terminates', async () => {
    const progress: number[] = [];
    const { host, ready } = await start('ready', progress);
    assert.deepEqual(ready, { greeting: 'hello' });
    assert.deepEqual(progress, [0.5]);
    assert.equal(await host.call('echo', 'abc'), 'abc');
    const [a, b] = await Promise.all([host.call('echo', 'one'), host.call('echo', 'two')]);
    assert.deepEqual([a, b], ['one', 'two']);
    const bytes = await host.call('bytes', 4);
    assert.deepEqual([...bytes], [1, 1, 1, 1]);
    const pong = new Promise<number>((resolve) => host.on('pong', resolve));
    host.notify('ping', 41);
    assert.equal(await pong, 42);
    const hanging = assert.rejects(
      host.call('hang', undefined),
      (error: unknown) => error instanceof ThreadStopped && error.message === 'the test thread stopped',
    );
    const stops: Error[] = [];
    host.onStop((error) => stops.push(error));
    await host.terminate();
    await hanging;
    assert.equal(stops.length, 1);
    assert.equal(host.alive, false);
    await assert.rejects(host.call('echo', 'late'), ThreadStopped);
  });

  it('raises a thread error as its class, with its fields, name and message', async () => {
    const { host } = await start('ready');
    try {
      await assert.rejects(host.call('fail', 'field'), (error: unknown) => {
        assert.ok(error instanceof FieldError);
        assert.deepEqual([error.name, error.message, error.param, error.inUse], ['FieldError', 'bad message', 'messages.0', true]);
        assert.match(error.stack ?? '', /rpc-worker/);
        return true;
      });
      await assert.rejects(
        host.call('fail', 'async'),
        (error: unknown) => error instanceof FieldError && error.param === 'x' && error.message === 'later',
      );
      await assert.rejects(host.call('fail', 'unregistered'), (error: unknown) => {
        assert.ok(error instanceof Error && !(error instanceof Unregistered));
        assert.deepEqual([error.name, error.message], ['Unregistered', 'not known']);
        return true;
      });
      await assert.rejects(host.call('fail', 'string'), (error: unknown) => error instanceof Error && error.message === 'a string');
    } finally {
      await host.terminate();
    }
  });

  it('rejects every pending call when the thread exits', async () => {
    const { host } = await start('ready');
    const stopped = new Promise<Error>((resolve) => host.onStop(resolve));
    const hanging = [host.call('hang', undefined), host.call('hang', undefined)];
    const exiting = host.call('exit', 3);
    await Promise.all(
      [...hanging, exiting].map((call) =>
        assert.rejects(
          call,
          (error: unknown) => error instanceof ThreadStopped && error.code === 3 && error.message === 'the test thread exited',
        ),
      ),
    );
    assert.ok((await stopped) instanceof ThreadStopped);
    assert.equal(host.alive, false);
  });

  it('rejects pending calls with the reason given to terminate', async () => {
    const { host } = await start('ready');
    const reason = new FieldError('grammar', 'took too long');
    const hanging = assert.rejects(host.call('hang', undefined), (error: unknown) => error === reason);
    await host.terminate(reason);
    await hanging;
  });

  it('rejects start with the thread typed failure, an exit, or a thrown error', async () => {
    await assert.rejects(
      start('fail'),
      (error: unknown) => error instanceof FieldError && error.param === 'model' && error.inUse && error.message === 'no such model',
    );
    await assert.rejects(
      start('exit'),
      (error: unknown) => error instanceof ThreadStopped && error.code === 7 && /exited with code 7/.test(error.message),
    );
    await assert.rejects(start('throw'), /thrown at start/);
  });
});

const roundTrip = (codec: ErrorCodec, error: Error) => codec.decode(structuredClone(codec.encode(error)));

describe('ErrorCodec', () => {
  it('carries a registered class with its fields, name, message and stack', () => {
    const error = new FieldError('a.b', 'wrong', true);
    const back = roundTrip(testErrors, error);
    assert.ok(back instanceof FieldError);
    assert.deepEqual([back.name, back.message, back.param, back.inUse, back.stack], [error.name, error.message, 'a.b', true, error.stack]);
  });

  it('raises an unknown class as an Error with its name, and a subclass as its registered parent', () => {
    class Registered extends Error {}
    class Sub extends Registered {
      override name = 'Sub';
    }
    const codec = new ErrorCodec([Registered]);
    const sub = roundTrip(codec, new Sub('s'));
    assert.ok(sub instanceof Registered);
    assert.equal(sub.name, 'Sub');
    const other = roundTrip(codec, new RangeError('r'));
    assert.equal(other.constructor, Error);
    assert.deepEqual([other.name, other.message], ['RangeError', 'r']);
    assert.throws(() => codec.register(class Registered extends Error {}), /two error classes/);
  });
});
