/** Maps event names to the arguments their listeners receive, e.g. `{ hit: [key: string] }`. */
export type EventMap = { [event: string]: unknown[] };

export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A small typed event emitter. Unlike node:events, emitting `error` with no listener does not
 * throw: a library must never crash its host because nobody subscribed. Listener lists are
 * copy-on-write, so `emit` allocates nothing.
 */
export class TypedEventEmitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, Listener<any>[]>();

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    const list = this.#listeners.get(event);
    this.#listeners.set(event, list ? [...list, listener] : [listener]);
    return this;
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    const wrapper: Listener<Events[E]> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.indexOf(listener);
    if (index === -1) return this;
    if (list.length === 1) this.#listeners.delete(event);
    else this.#listeners.set(event, [...list.slice(0, index), ...list.slice(index + 1)]);
    return this;
  }

  /** Calls the listeners of `event` in order; returns whether there were any. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const listener of list) listener(...args);
    return true;
  }

  /** Cheap check before building an expensive event payload. */
  hasListeners(event: keyof Events): boolean {
    return this.#listeners.has(event);
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }
}
