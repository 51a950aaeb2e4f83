/**
 * After-hooks that stop what setup started, also when setup failed half-way: each step runs
 * whatever happened to the others, and the first failure is reported once all have run.
 */

/** A stop step; one for a part that never started does nothing (`() => part?.stop()`). */
export type StopStep = () => unknown;

/**
 * Runs every step in order, each even if an earlier one threw.
 * @throws the first step's error, once every step has run.
 * @example
 * after(() => stopEach(() => verifier?.stop(), () => issuer?.stop(), () => nats?.destroy()));
 */
export async function stopEach(...steps: StopStep[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}
