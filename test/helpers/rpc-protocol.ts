// The protocol of the RPC helper's test thread (rpc-worker.ts), and the errors it raises.
import { ErrorCodec } from '../../src/threads/error-codec.js';

/** An error with fields of its own, and a constructor whose parameters are not (message). */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly param: string,
    message: string,
    readonly inUse = false,
  ) {
    super(message);
  }
}

export class Unregistered extends Error {
  override name = 'Unregistered';
}

export const testErrors = new ErrorCodec([FieldError]);

export type TestProtocol = {
  calls: {
    echo: { params: string; result: string };
    bytes: { params: number; result: Uint8Array };
    fail: { params: 'field' | 'unregistered' | 'string' | 'async'; result: never };
    exit: { params: number; result: never };
    hang: { params: undefined; result: never };
  };
  toThread: { ping: number };
  toHost: { progress: number; pong: number };
  ready: { greeting: string };
};

export type StartMode = 'ready' | 'fail' | 'exit' | 'throw';
