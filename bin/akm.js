#!/usr/bin/env node
// The akm CLI: TypeScript source run through tsx, so `npx akm` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../issuer/src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
