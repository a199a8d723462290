// Errors of the two route families: TGI's native {"error": "...", "error_type": "..."} and
// OpenAI's {"error": {"message", "type", "param", "code"}}, each with its HTTP status, and the one
// mapping of the request errors the lower layers throw (DomainError, by kind) to them.
import { DomainError } from '../core/errors.js';
import type { RequestFailure } from '../core/request.js';

export type ErrorFamily = 'native' | 'openai';

export interface OpenAiErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function openAiType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openAiErrorBody(status: number, message: string, code: string | null = null, param: string | null = null): OpenAiErrorJson {
  return { error: { message, type: openAiType(status), param, code } };
}

/** The error body of a family: the one place a status, message and type become JSON. */
export function errorBody(
  family: ErrorFamily | undefined,
  status: number,
  message: string,
  errorType: string,
  param: string | null = null,
): unknown {
  return family === 'openai' ? openAiErrorBody(status, message, errorType, param) : { error: message, error_type: errorType };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    /** The request field at fault, when one is (OpenAI's `param`). */
    readonly param: string | null = null,
  ) {
    super(message);
  }

  toJSON(): { error: string; error_type: string } {
    return { error: this.message, error_type: this.errorType };
  }

  bodyFor(family: ErrorFamily): unknown {
    return errorBody(family, this.status, this.message, this.errorType, this.param);
  }
}

export const validationError = (message: string, param: string | null = null) =>
  new ApiError(422, 'validation', `Input validation error: ${message}`, param);
export const overloadedError = () => new ApiError(429, 'overloaded', 'Model is overloaded');
const generationError = (message: string) => new ApiError(424, 'generation', `Request failed during generation: ${message}`);
export const unhealthyError = () => new ApiError(503, 'healthcheck', 'unhealthy');
const templateError = (message: string) => new ApiError(422, 'template_error', `Template error: ${message}`);
export const shuttingDownError = () => new ApiError(503, 'shutdown', 'The server is shutting down');

/**
 * The answer to a request-level failure of checking, templating or planning a request (which the
 * lifecycle counts as a validation failure), by its kind; undefined for any other error.
 */
export function requestError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (!(error instanceof DomainError)) return undefined;
  switch (error.kind) {
    case 'validation':
      return validationError(error.message, error.param);
    case 'context_length':
      // OpenAI's status and code for it (400, context_length_exceeded), which clients act on.
      return new ApiError(400, 'context_length_exceeded', error.message, error.param);
    case 'template':
      return templateError(error.message);
  }
}

/** What a request's error event answers, by its failure: 503 when shutdown stopped it, else TGI's generation error. */
export function requestEventError(event: { failure: RequestFailure; message: string }): ApiError {
  switch (event.failure) {
    case 'stopped':
      return shuttingDownError();
    case 'capacity':
    case 'grammar':
    case 'engine':
      return generationError(event.message);
  }
}
