import { invariant, NoaError } from './errors.js';
import { TypedEventEmitter } from './typed-event-emitter.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before letting trial calls through. Default 10 000. */
  halfOpenAfterMs?: number;
  /** Successful trial calls needed in half-open state to close again. Default 1. */
  successThreshold?: number;
  /** Trial calls allowed at once while half-open. Default 1. */
  halfOpenMaxConcurrent?: number;
  /** Which errors count as failures (default: all). A 404 usually should not open a circuit. */
  isFailure?: (error: unknown) => boolean;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Used in error messages and events. */
  name?: string;
}

export type CircuitBreakerEvents = {
  open: [info: { failures: number; error: unknown }];
  'half-open': [];
  close: [];
  success: [];
  failure: [error: unknown];
  reject: [];
};

export interface CircuitBreakerStats {
  state: CircuitState;
  successes: number;
  failures: number;
  rejections: number;
  consecutiveFailures: number;
}

export interface CircuitBreaker extends TypedEventEmitter<CircuitBreakerEvents> {
  /** Runs `fn` unless the circuit is open, in which case it throws `NOA_CIRCUIT_OPEN` without calling it. */
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  readonly state: CircuitState;
  stats(): CircuitBreakerStats;
  /** Forces the circuit open (e.g. a health check says the dependency is down). */
  open(): void;
  /** Forces the circuit closed and clears the failure count. */
  close(): void;
}

class Breaker extends TypedEventEmitter<CircuitBreakerEvents> implements CircuitBreaker {
  #state: CircuitState = 'closed';
  #consecutiveFailures = 0;
  #halfOpenSuccesses = 0;
  #trialsInFlight = 0;
  #openedAt = 0;
  #successes = 0;
  #failures = 0;
  #rejections = 0;
  readonly #failureThreshold: number;
  readonly #halfOpenAfterMs: number;
  readonly #successThreshold: number;
  readonly #halfOpenMaxConcurrent: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #now: () => number;
  readonly #name: string;

  constructor(options: CircuitBreakerOptions) {
    super();
    const {
      failureThreshold = 5,
      halfOpenAfterMs = 10_000,
      successThreshold = 1,
      halfOpenMaxConcurrent = 1,
      isFailure = () => true,
      now = Date.now,
      name = 'circuit',
    } = options;
    invariant(
      Number.isInteger(failureThreshold) && failureThreshold >= 1,
      'circuit breaker: failureThreshold must be an integer >= 1',
    );
    invariant(
      Number.isFinite(halfOpenAfterMs) && halfOpenAfterMs >= 0,
      'circuit breaker: halfOpenAfterMs must be a number >= 0',
    );
    invariant(
      Number.isInteger(successThreshold) && successThreshold >= 1,
      'circuit breaker: successThreshold must be an integer >= 1',
    );
    invariant(
      Number.isInteger(halfOpenMaxConcurrent) && halfOpenMaxConcurrent >= 1,
      'circuit breaker: halfOpenMaxConcurrent must be an integer >= 1',
    );
    this.#failureThreshold = failureThreshold;
    this.#halfOpenAfterMs = halfOpenAfterMs;
    this.#successThreshold = successThreshold;
    this.#halfOpenMaxConcurrent = halfOpenMaxConcurrent;
    this.#isFailure = isFailure;
    this.#now = now;
    this.#name = name;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#halfOpenAfterMs) this.#toHalfOpen();
    return this.#state;
  }

  async execute<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    // The closed path is the hot one: one comparison, then the call.
    if (this.#state !== 'closed' && !this.#admit()) {
      this.#rejections++;
      this.emit('reject');
      const retryAfterMs = Math.max(0, this.#openedAt + this.#halfOpenAfterMs - this.#now());
      throw Object.assign(
        new NoaError(
          'NOA_CIRCUIT_OPEN',
          `${this.#name} is open after repeated failures; retry in ${retryAfterMs} ms or use a fallback`,
        ),
        { retryAfterMs },
      );
    }
    const trial = this.#state === 'half-open';
    try {
      const value = await fn();
      this.#onSuccess(trial);
      return value;
    } catch (error) {
      this.#onFailure(error, trial);
      throw error;
    }
  }

  stats(): CircuitBreakerStats {
    return {
      state: this.state,
      successes: this.#successes,
      failures: this.#failures,
      rejections: this.#rejections,
      consecutiveFailures: this.#consecutiveFailures,
    };
  }

  open(): void {
    this.#toOpen(undefined);
  }

  close(): void {
    this.#toClosed();
  }

  #admit(): boolean {
    if (this.state === 'open') return false;
    if (this.#trialsInFlight >= this.#halfOpenMaxConcurrent) return false;
    this.#trialsInFlight++;
    return true;
  }

  #onSuccess(trial: boolean): void {
    this.#successes++;
    if (trial) {
      this.#trialsInFlight--;
      if (this.#state === 'half-open' && ++this.#halfOpenSuccesses >= this.#successThreshold)
        this.#toClosed();
    } else {
      this.#consecutiveFailures = 0;
    }
    if (this.hasListeners('success')) this.emit('success');
  }

  #onFailure(error: unknown, trial: boolean): void {
    if (trial) this.#trialsInFlight--;
    if (!this.#isFailure(error)) {
      // Not the dependency's fault: it answered. Counts as proof of life.
      this.#onSuccessWithoutCount(trial);
      return;
    }
    this.#failures++;
    this.#consecutiveFailures++;
    if (this.hasListeners('failure')) this.emit('failure', error);
    if (trial || (this.#state === 'closed' && this.#consecutiveFailures >= this.#failureThreshold))
      this.#toOpen(error);
  }

  #onSuccessWithoutCount(trial: boolean): void {
    if (trial && this.#state === 'half-open' && ++this.#halfOpenSuccesses >= this.#successThreshold)
      this.#toClosed();
    else if (!trial) this.#consecutiveFailures = 0;
  }

  #toOpen(error: unknown): void {
    this.#openedAt = this.#now();
    if (this.#state === 'open') return;
    this.#state = 'open';
    this.#halfOpenSuccesses = 0;
    this.emit('open', { failures: this.#consecutiveFailures, error });
  }

  #toHalfOpen(): void {
    this.#state = 'half-open';
    this.#halfOpenSuccesses = 0;
    this.#trialsInFlight = 0;
    this.emit('half-open');
  }

  #toClosed(): void {
    const wasClosed = this.#state === 'closed';
    this.#state = 'closed';
    this.#consecutiveFailures = 0;
    this.#halfOpenSuccesses = 0;
    if (!wasClosed) this.emit('close');
  }
}

/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and fails calls fast
 * for `halfOpenAfterMs`, then lets trial calls through; a successful trial closes it, a failed one
 * opens it again. No timers: state changes happen lazily on the next call.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new Breaker(options);
}
