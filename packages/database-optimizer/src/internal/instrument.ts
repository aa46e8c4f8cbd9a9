/**
 * Wraps a database client's query functions (pg, PGlite, mysql2 in promise or callback style) so
 * every statement is timed and reported, without changing what the caller gets back.
 */
export interface QueryObservation {
  sql: string;
  params: readonly unknown[] | undefined;
  durationMs: number;
  error?: unknown;
}

export interface Instrumentation {
  /** Called synchronously when a statement is issued; its result is handed to `onEnd`. */
  onStart(sql: string): unknown;
  onEnd(observation: QueryObservation, started: unknown): void;
}

const QUERY_METHODS = new Set(['query', 'execute']);
const CLIENT_METHODS = new Set(['connect', 'getConnection', 'acquire']);
/** Methods that run a callback with a transaction client (@noa/connection-pool, PGlite). */
const TRANSACTION_METHODS = new Set(['transaction']);
const WRAPPED = Symbol('noa.database-optimizer.wrapped');

function statementOf(args: unknown[]): { sql: string; params: readonly unknown[] | undefined } | undefined {
  const first = args[0];
  if (typeof first === 'string') {
    return { sql: first, params: Array.isArray(args[1]) ? args[1] : undefined };
  }
  if (first && typeof first === 'object') {
    const config = first as { text?: unknown; sql?: unknown; values?: unknown };
    const sql =
      typeof config.text === 'string' ? config.text : typeof config.sql === 'string' ? config.sql : undefined;
    if (sql === undefined) return undefined;
    const values = Array.isArray(config.values)
      ? config.values
      : Array.isArray(args[1])
        ? args[1]
        : undefined;
    return { sql, params: values };
  }
  return undefined;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';

function wrapQuery(fn: (...args: unknown[]) => unknown, target: object, hooks: Instrumentation) {
  return function wrappedQuery(this: unknown, ...args: unknown[]) {
    const statement = statementOf(args);
    if (!statement) return fn.apply(target, args);
    const started = hooks.onStart(statement.sql);
    const start = performance.now();
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      const observation: QueryObservation = { ...statement, durationMs: performance.now() - start };
      if (error) observation.error = error;
      hooks.onEnd(observation, started);
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...cbArgs: unknown[]) => unknown;
      args[last] = (...cbArgs: unknown[]) => {
        finish(cbArgs[0] ?? undefined);
        return callback(...cbArgs);
      };
      return fn.apply(target, args);
    }
    const result = fn.apply(target, args);
    if (isThenable(result)) {
      return result.then(
        (value) => {
          finish();
          return value;
        },
        (error) => {
          finish(error);
          throw error;
        },
      );
    }
    // mysql2's callback-less query() returns an emitter that ends with 'end' or 'error'.
    const emitter = result as
      | { once?: (event: string, listener: (e?: unknown) => void) => unknown }
      | undefined;
    if (typeof emitter?.once === 'function') {
      emitter.once('end', () => finish());
      emitter.once('error', (error) => finish(error));
    } else {
      finish();
    }
    return result;
  };
}

/**
 * Returns a proxy of `target` whose query functions are instrumented, as are clients handed out by
 * `connect()`/`getConnection()`/`acquire()` and the client a `transaction(fn)` callback receives.
 * Everything else passes through untouched.
 */
export function instrument<T extends object>(target: T, hooks: Instrumentation): T {
  if ((target as Record<symbol, unknown>)[WRAPPED]) return target;
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, property, receiver) {
      if (property === WRAPPED) return true;
      const value = Reflect.get(obj, property, receiver);
      if (typeof value !== 'function') return value;
      const cached = cache.get(property);
      if (cached) return cached;
      let wrapped: unknown;
      if (typeof property === 'string' && TRANSACTION_METHODS.has(property)) {
        wrapped = (fn: unknown, ...rest: unknown[]) =>
          (value as (...a: unknown[]) => unknown).call(
            obj,
            typeof fn === 'function'
              ? (tx: unknown, ...more: unknown[]) =>
                  fn(tx && typeof tx === 'object' ? instrument(tx, hooks) : tx, ...more)
              : fn,
            ...rest,
          );
      } else if (
        typeof property !== 'string' ||
        (!QUERY_METHODS.has(property) && !CLIENT_METHODS.has(property))
      ) {
        // Bound to the real object: classes with #private fields reject a proxy as `this`.
        wrapped = (value as (...a: unknown[]) => unknown).bind(obj);
      } else if (QUERY_METHODS.has(property)) {
        wrapped = wrapQuery(value as (...args: unknown[]) => unknown, obj, hooks);
      } else {
        wrapped = (...args: unknown[]) => {
          const last = args.length - 1;
          if (typeof args[last] === 'function') {
            const callback = args[last] as (error: unknown, client?: object, ...rest: unknown[]) => unknown;
            args[last] = (error: unknown, client?: object, ...rest: unknown[]) =>
              callback(
                error,
                client && typeof client === 'object' ? instrument(client, hooks) : client,
                ...rest,
              );
            return (value as (...a: unknown[]) => unknown).apply(obj, args);
          }
          const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return isThenable(result)
            ? result.then((client) =>
                client && typeof client === 'object' ? instrument(client, hooks) : client,
              )
            : result;
        };
      }
      cache.set(property, wrapped);
      return wrapped;
    },
  });
}
