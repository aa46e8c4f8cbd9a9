/**
 * Runs the messages of each group one after another, in the order they were added. One instance
 * serves one SQS FIFO receive, which can return several messages of the same group: they must not
 * run side by side. When one of them does not finish for good (retried later, handed back, or its
 * delete failed), the group's later messages are skipped (handed back unrun) so they stay behind it.
 */
export class GroupOrder {
  readonly #tails = new Map<string, Promise<boolean>>();

  /**
   * `run` resolves true when the group may go on; `skip` hands the message back without running it.
   * Resolves once this message has run or been skipped.
   */
  add(group: string, run: () => Promise<boolean>, skip: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(group) ?? Promise.resolve(true);
    const next = previous.then((goOn) => (goOn ? run() : skip().then(() => false))).catch(() => false);
    this.#tails.set(group, next);
    return next.then(() => {
      if (this.#tails.get(group) === next) this.#tails.delete(group);
    });
  }
}
