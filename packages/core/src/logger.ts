type LogFn = {
  (message: string): void;
  (context: object, message?: string): void;
};

/** The subset of pino's API Noa logs through; pino, and most loggers with a thin wrapper, fit. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop = () => {};

/** The default logger: silent. */
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
