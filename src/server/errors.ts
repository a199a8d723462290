// Errors as TGI's native routes report them: {"error": "...", "error_type": "..."} and a status.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { error: string; error_type: string } {
    return { error: this.message, error_type: this.errorType };
  }
}

export const validationError = (message: string) => new ApiError(422, 'validation', `Input validation error: ${message}`);
export const overloadedError = () => new ApiError(429, 'overloaded', 'Model is overloaded');
export const generationError = (message: string) => new ApiError(424, 'generation', `Request failed during generation: ${message}`);
export const incompleteError = () => new ApiError(500, 'incomplete_generation', 'Incomplete generation');
export const unhealthyError = () => new ApiError(503, 'healthcheck', 'unhealthy');
