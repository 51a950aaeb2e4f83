/**
 * What every remote CLI command needs: the issuer URL, the token and the output mode, from
 * options, environment or the saved sign-in, in that order.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { IssuerClient } from '@akm/client';
import { readIssuerUrl } from '../store/issuer-url-file.js';
import { CliError } from './cli-error.js';
import { connectIssuer } from './issuer-api.js';
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
  /** The sign-in token the API client sends, if any. */
  token: string | undefined;
  /** The issuer's typed client; its calls throw a CliError on any failure. */
  api: IssuerClient;
}

/** Default issuer URL. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The data directory the CLI reads (`AKM_DATA_DIR`, default `./data`), or `override`. */
export function dataDirOf(override?: string): string {
  return resolve(override ?? (process.env.AKM_DATA_DIR || './data'));
}

/**
 * The issuer URL given explicitly (`--url`, `AKM_URL`), else `fallback` (e.g. the saved
 * sign-in's), else the URL the issuer of the data directory recorded at its last start, else
 * {@link DEFAULT_URL}.
 */
export function issuerUrlOf(opts: GlobalOptions, fallback?: string, dataDir = dataDirOf()): string {
  // An empty variable counts as unset, as `AKM_URL= akm …` means to shells and CI files.
  return opts.url ?? (process.env.AKM_URL || undefined) ?? fallback ?? readIssuerUrl(dataDir) ?? DEFAULT_URL;
}

/** Builds the context of a command from its global options. */
export function contextOf(command: Command, { needToken = true } = {}): CliContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const saved = loadSession();
  const url = issuerUrlOf(opts, saved?.url);
  const token = opts.token ?? (process.env.AKM_TOKEN || undefined) ?? saved?.token;
  if (needToken && !token) {
    throw new CliError('not signed in: run `akm login`, set AKM_TOKEN, or pass --token (see `akm admin-token`)');
  }
  return { url, json: opts.json ?? false, token, api: connectIssuer({ url, ...(token ? { token } : {}) }) };
}

/** The arguments the CLI was run with (after `akm`), as the user typed them. */
export function argvOf(command: Command): string[] {
  let root = command;
  while (root.parent) root = root.parent;
  // Commander keeps them on the program it parsed (`rawArgs`, untyped in its declarations).
  return [...(root as unknown as { rawArgs: string[] }).rawArgs];
}

/**
 * Parses a positive whole number option. Commander's own error names the option and the
 * value ("option '--ttl <seconds>' argument 'soon' is invalid. …"), so it is a usage error.
 */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('It must be a positive whole number.');
  return n;
}

/** Parses a whole number option that may be 0 (e.g. a grace period, 0 for none). */
export function wholeNumber(value: string): number {
  return value === '0' ? 0 : positiveInt(value);
}

/** Parses a positive whole number option of at most `max` (e.g. a capped lifetime). */
export function positiveIntAtMost(max: number): (value: string) => number {
  return (value) => {
    const n = positiveInt(value);
    if (n > max) throw new InvalidArgumentError(`It must be at most ${max}.`);
    return n;
  };
}
