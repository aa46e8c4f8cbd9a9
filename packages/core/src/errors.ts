/**
 * The base of every error Noa throws. `code` is stable across versions (for example
 * `NOA_CACHE_LOADER_TIMEOUT`); the message says what happened and what to do about it.
 */
export class NoaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NoaError';
    this.code = code;
  }
}

/**
 * Whether `error` is a NoaError, optionally with the given code. Works across copies of
 * `@noa/core` (for example one bundled CJS and one ESM) because it checks the shape, not the class.
 */
export function isNoaError(error: unknown, code?: string): error is NoaError {
  if (!(error instanceof Error)) return false;
  const candidate = error as Partial<NoaError>;
  if (error.name !== 'NoaError' || typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** Throws `NOA_INVALID_OPTION` unless `condition` holds; for validating options at the boundary. */
export function invariant(
  condition: unknown,
  message: string,
  code = 'NOA_INVALID_OPTION',
): asserts condition {
  if (!condition) throw new NoaError(code, message);
}
