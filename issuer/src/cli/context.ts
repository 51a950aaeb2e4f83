/**
 * What every remote CLI command needs: the issuer URL, the token and the output mode, from
 * options, environment or the saved sign-in, in that order.
 */
import type { Command } from 'commander';
import { createApiClient, CliError, type ApiClient } from './api-client.js';
import { loadSession } from './session-file.js';

/** Global options of the CLI. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** The resolved context of a command. */
export interface CliContext {
  url: string;
  json: boolean;
  api: ApiClient;
}

/** Default issuer URL. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Builds the context of a command from its global options. */
export function contextOf(command: Command, { needToken = true } = {}): CliContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const saved = loadSession();
  const url = opts.url ?? process.env.AKM_URL ?? saved?.url ?? DEFAULT_URL;
  const token = opts.token ?? process.env.AKM_TOKEN ?? saved?.token;
  if (needToken && !token) {
    throw new CliError('not signed in: run `akm login`, set AKM_TOKEN, or pass --token (see `akm admin-token`)');
  }
  return { url, json: opts.json ?? false, api: createApiClient({ url, token }) };
}

/** Parses a positive whole number option. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`${name} must be a positive whole number, got "${value}"`);
    return n;
  };
}
