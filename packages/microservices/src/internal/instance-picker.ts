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
    const list = this.#o.discovery.instances({ healthyOnly: true });
    if (list === this.#lastList) return this.#rotation;
    this.#lastList = list;
    const { tags } = this.#o;
    this.#rotation = tags.length ? list.filter((i) => tags.every((t) => i.tags.includes(t))) : [...list];
    const ids = new Set(this.#rotation.map((i) => i.id));
    const removed = [...this.#breakers.keys()].filter((id) => !ids.has(id));
    for (const id of removed) this.#breakers.delete(id);
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
      breaker.on('open', () => this.#o.onCircuitOpen(instance));
      this.#breakers.set(instance.id, breaker);
    }
    return breaker;
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
    // The common case allocates nothing: a first attempt with every instance usable.
    if (!tried?.size && all.every((i) => this.#usable(i))) return this.#o.balancer.pick(all);
    let candidates = all.filter((i) => !tried?.has(i.id) && this.#usable(i));
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

  success(instance: ServiceInstance): void {
    this.#outliers?.success(instance.id);
  }

  failure(instance: ServiceInstance): void {
    if (!this.#outliers) return;
    const durationMs = this.#outliers.failure(instance.id, this.current().length);
    if (durationMs !== undefined) this.#o.onEject(instance, durationMs);
  }

  /** Tells the balancer an attempt starts; call the returned function once when it ends. */
  start(instance: ServiceInstance): () => void {
    const started = performance.now();
    const balancer = this.#o.balancer;
    balancer.onStart(instance);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      balancer.onEnd(instance, performance.now() - started);
    };
  }

  /** Runs one attempt through the instance's breaker (if any) with the balancer's accounting. */
  async run<T>(instance: ServiceInstance, fn: () => Promise<T>): Promise<T> {
    const end = this.start(instance);
    try {
      const breaker = this.breaker(instance);
      return breaker ? await breaker.execute(fn) : await fn();
    } finally {
      end();
    }
  }
}
