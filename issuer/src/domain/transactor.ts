/**
 * The unit of work the domain needs from its store (a port): run a function as one
 * transaction, so that a key change and its outbox event are written together or not at all.
 */

/** Runs work atomically. */
export interface Transactor {
  /**
   * Runs `work` in one write transaction and resolves to its result; a throw rolls it back.
   * Called inside another `run`, it joins that transaction.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
}
