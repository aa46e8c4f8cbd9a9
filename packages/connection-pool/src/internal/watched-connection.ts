type Emitter = { on(event: string, listener: (...args: any[]) => void): unknown };

/**
 * The broken flag every driver connection keeps: set when the client emits one of `events` (a
 * socket closed, a failed heartbeat) or when the driver sees a fatal query error. Listening to
 * 'error' also keeps an idle client's error from crashing the process.
 */
export abstract class WatchedConnection<Client extends Emitter> {
  #broken = false;

  constructor(
    readonly client: Client,
    events: readonly string[],
  ) {
    for (const event of events) client.on(event, () => this.markBroken());
  }

  get broken(): boolean {
    return this.#broken;
  }

  protected markBroken(): void {
    this.#broken = true;
  }
}
