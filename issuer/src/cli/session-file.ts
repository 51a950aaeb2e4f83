/**
 * Where the CLI keeps the sign-in token between commands: `$AKM_CONFIG_DIR/session.json`
 * (default `~/.config/akm`), mode 0600.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A saved sign-in. */
export interface SavedSession {
  url: string;
  token: string;
  /** Seconds since epoch. */
  expiresAt?: number;
}

function configDir(env: NodeJS.ProcessEnv): string {
  return env.AKM_CONFIG_DIR ?? join(homedir(), '.config', 'akm');
}

/** Path of the session file. */
export function sessionPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'session.json');
}

/** Saves a sign-in (mode 0600). */
export function saveSession(session: SavedSession, env: NodeJS.ProcessEnv = process.env): string {
  mkdirSync(configDir(env), { recursive: true, mode: 0o700 });
  const path = sessionPath(env);
  writeFileSync(path, JSON.stringify(session), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** The saved sign-in, if any. */
export function loadSession(env: NodeJS.ProcessEnv = process.env): SavedSession | undefined {
  try {
    return JSON.parse(readFileSync(sessionPath(env), 'utf8')) as SavedSession;
  } catch {
    return undefined;
  }
}

/** Forgets the saved sign-in. */
export function clearSession(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(sessionPath(env), { force: true });
}
