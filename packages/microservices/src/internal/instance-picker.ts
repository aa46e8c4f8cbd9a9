import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
  isNoaError,
  NoaError,
} from '@noa/core';
import type { Balancer } from '../balancer.js';
import type { ServiceInstance } from '../instance.js';
import { type OutlierDetectionOptions, OutlierDetector } from '../outlier-detector.js';
import type { Discovery } from '../registry.js';

const noop = () => {};

/** Tells a breaker how an attempt it admitted ended. */
export type OutcomeReport = (failed: boolean, error?: unknown) => void;

export interface InstancePickerOptions {
  service: string;
  discovery: Discovery;
  balancer: Balancer;
  circuitBreaker: CircuitBreakerOptions | false;
  outlierDetection: OutlierDetectionOptions | false;
  tags: string[];
  onCircuitOpen(instance: ServiceInstance): void;
  onEject(instance: ServiceInstance, durationMs: number): void;
  /** Instances that left rotation, so their connections can be closed. */
  onRemoved(ids: string[]): void;
}

/**
 * Which instance the next attempt goes to, shared by the HTTP and gRPC clients: the discovery
 * cache's healthy instances, filtered by tags, ejection and open circuits, then the balancer.
 */
export class InstancePicker {
  readonly #o: InstancePickerOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #outliers: OutlierDetector | undefined;
  #lastList: readonly ServiceInstance[] | undefined;
  #rotation: ServiceInstance[] = [];
  /** Set when a circuit opened or an instance was ejected: choose() must check who is usable. */
  #degraded = false;
  /** Instances whose closed breaker counted failures since their last reported success. */
  readonly #failing = new Set<string>();

  constructor(options: InstancePickerOptions) {
    this.#o = options;
    if (options.circuitBreaker) createCircuitBreaker(options.circuitBreaker); // validate now
    this.#outliers = options.outlierDetection ? new OutlierDetector(options.outlierDetection) : undefined;
  }

  /** Whether the discovery cache delivered a list yet. */
  get synced(): boolean {
    return this.#lastList !== undefined;
  }

  /** The healthy, tag-matching list; state of instances that left is dropped. */
  current(): ServiceInstance[] {
    const list = this.#o.discovery.instances(); // healthy only (the default)
    if (list === this.#lastList) return this.#rotation;
    this.#lastList = list;
    const { tags } = this.#o;
    this.#rotation = tags.length ? list.filter((i) => tags.every((t) => i.tags.includes(t))) : [...list];
    const ids = new Set(this.#rotation.map((i) => i.id));
    const removed = [...this.#breakers.keys()].filter((id) => !ids.has(id));
    for (const id of removed) {
      this.#breakers.delete(id);
      this.#failing.delete(id);
    }
    this.#outliers?.retain(ids);
    this.#o.balancer.retain?.(ids);
    this.#o.onRemoved([...removed]);
    return this.#rotation;
  }

  /** In rotation: healthy and not ejected. */
  instances(): ServiceInstance[] {
    return this.current().filter((i) => !this.#outliers?.isEjected(i.id));
  }

  breaker(instance: ServiceInstance): CircuitBreaker | undefined {
    const options = this.#o.circuitBreaker;
    if (!options) return undefined;
    let breaker = this.#breakers.get(instance.id);
    if (!breaker) {
      breaker = createCircuitBreaker({
        name: `${this.#o.service} instance ${instance.id}`,
        ...options,
        isFailure: (error) => !isNoaError(error, 'NOA_ABORTED') && (options.isFailure?.(error) ?? true),
      });
      breaker.on('open', () => {
        this.#degraded = true;
        this.#o.onCircuitOpen(instance);
      });
      this.#breakers.set(instance.id, breaker);
    }
    return breaker;
  }

  /**
   * The breaker an attempt must run through (`execute`), or undefined on the hot path: while a
   * circuit is closed, execute() would only run the call and count its outcome, so the client
   * runs the call itself and reports the outcome with success()/failure() instead, saving an
   * async layer and a closure per request.
   */
  gate(instance: ServiceInstance): CircuitBreaker | undefined {
    const breaker = this.breaker(instance);
    return breaker && breaker.state !== 'closed' ? breaker : undefined;
  }

  #open(instance: ServiceInstance): boolean {
    return this.#o.circuitBreaker !== false && this.breaker(instance)!.state === 'open';
  }

  #usable(instance: ServiceInstance): boolean {
    return !this.#outliers?.isEjected(instance.id) && !this.#open(instance);
  }

  /** The instance for the next attempt, preferring ones not `tried` yet. */
  choose(tried: ReadonlySet<string> | undefined): ServiceInstance {
    const all = this.current();
    const { service, tags } = this.#o;
    if (all.length === 0) {
      throw new NoaError(
        'NOA_SERVICE_NO_INSTANCES',
        `no healthy instance of "${service}" is registered${tags.length ? ` with tags ${tags.join(', ')}` : ''}; start one or check its health endpoint`,
      );
    }
    // The common case checks nothing: a first attempt while no circuit opened and nothing was ejected.
    if (!tried?.size && !this.#degraded) return this.#o.balancer.pick(all);
    let candidates = all.filter((i) => !tried?.has(i.id) && this.#usable(i));
    if (!tried?.size && candidates.length === all.length) this.#degraded = false; // everyone is back
    if (candidates.length === 0 && tried?.size) candidates = all.filter((i) => this.#usable(i));
    // Everything ejected: ejection must not cause an outage, so fall back to breaker state alone.
    if (candidates.length === 0) candidates = all.filter((i) => !this.#open(i));
    if (candidates.length === 0) {
      throw new NoaError(
        'NOA_SERVICE_CIRCUIT_OPEN',
        `every instance of "${service}" has an open circuit after repeated failures; retry later or use a fallback`,
      );
    }
    return this.#o.balancer.pick(candidates);
  }

  /**
   * Lets an attempt through a breaker that is not closed (half-open admits a limited number of
   * trials): resolves with the callback that must report the attempt's outcome to it, exactly once,
   * or rejects with NOA_CIRCUIT_OPEN.
   */
  async admit(breaker: CircuitBreaker): Promise<OutcomeReport> {
    let report!: OutcomeReport;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const trial = breaker.execute(
      () =>
        new Promise<void>((resolve, reject) => {
          report = (failed, error) => (failed ? reject(error) : resolve());
          entered();
        }),
    );
    trial.catch(noop); // the outcome was reported by us; execute() only hands it back
    await Promise.race([inside, trial]);
    return report;
  }

  /**
   * An attempt on `instance` succeeded. With `report` (from admit()) its breaker hears of it;
   * otherwise a closed breaker hears of it only when it has failures to forget.
   */
  success(instance: ServiceInstance, report?: OutcomeReport): void {
    this.#outliers?.success(instance.id);
    if (report) report(false);
    else if (this.#failing.delete(instance.id)) {
      const breaker = this.#breakers.get(instance.id);
      if (breaker?.state === 'closed') void breaker.execute(noop);
    }
  }

  /** An attempt on `instance` failed with `error` (see success() for `report`). */
  failure(instance: ServiceInstance, error: unknown, report?: OutcomeReport): void {
    if (report) report(true, error);
    else {
      const breaker = this.#breakers.get(instance.id);
      // A closed breaker counts the failure (its isFailure decides). In other states a failure of
      // an attempt that started while it was closed would change nothing either.
      if (breaker?.state === 'closed') {
        this.#failing.add(instance.id);
        breaker
          .execute(() => {
            throw error;
          })
          .catch(noop);
      }
    }
    if (!this.#outliers) return;
    const durationMs = this.#outliers.failure(instance.id, this.current().length);
    if (durationMs !== undefined) {
      this.#degraded = true;
      this.#o.onEject(instance, durationMs);
    }
  }

  /** Tells the balancer an attempt starts; returns the start time for end(). */
  start(instance: ServiceInstance): number {
    this.#o.balancer.onStart(instance);
    return performance.now();
  }

  /** Tells the balancer the attempt begun by start() ended; call exactly once. */
  end(instance: ServiceInstance, started: number): void {
    this.#o.balancer.onEnd(instance, performance.now() - started);
  }
}
