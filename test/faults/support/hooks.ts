/**
 * Root hooks of the fault suite: after the last case, prints every measured figure in one block
 * (the numbers docs/failure-modes.md quotes). The run's directory (logs, figures) is kept when a
 * test failed, to read the logs, and removed otherwise.
 */
import { rmSync } from 'node:fs';
import type { Context } from 'mocha';
import { figuresSoFar, RUN_DIR } from './run.js';

let failed = false;

export const mochaHooks = {
  afterEach(this: Context): void {
    if (this.currentTest?.state === 'failed') failed = true;
  },
  afterAll(): void {
    const lines = figuresSoFar().map((f) => `  case ${f.case}  ${f.name}: ${f.value}${f.unit ? ` ${f.unit}` : ''}`);
    console.log(`\nFault suite figures:\n${lines.join('\n')}\n`);
    if (failed || process.env.AKM_FAULTS_DIR) console.log(`logs kept in ${RUN_DIR}`);
    else rmSync(RUN_DIR, { recursive: true, force: true });
  },
};
