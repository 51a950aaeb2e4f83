#!/usr/bin/env node
// The akm CLI, from the built JavaScript (`npm run build`; `npm ci` builds it).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
