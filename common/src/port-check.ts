/**
 * Checks, before a process creates anything, that the ports it will listen on can be had: a
 * busy port is then one line naming the variable to change, instead of a stack trace after the
 * data directory (and the first admin's password) were already created.
 */
import { createServer } from 'node:net';
import { StartupError } from './run-main.js';

/**
 * Exit code of a start refused because a port is taken: EX_TEMPFAIL (sysexits.h). Distinct from
 * 78 (a setting is invalid) because the same setting may work once the other process is gone,
 * so a supervisor may retry; distinct from 1 (a bug, shown with its stack).
 */
export const PORT_UNAVAILABLE_EXIT_CODE = 75;

/** A port a process is about to listen on. */
export interface PortToCheck {
  /** The environment variable that sets it, named in the message. */
  variable: string;
  /** 0 (any free port) is never checked. */
  port: number;
  /** Interface it will listen on. */
  host: string;
}

/** Why a port cannot be had, or undefined when it can. */
function tryListen(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

function messageOf(check: PortToCheck, err: NodeJS.ErrnoException): string {
  const where = `port ${check.port} on ${check.host}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `${where} is already in use (${check.variable}=${check.port}): stop what holds it, or set ${check.variable} to a free port`;
    case 'EACCES':
      return `not allowed to listen on ${where} (${check.variable}=${check.port}): set ${check.variable} to a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `${check.host} is not an address of this machine (AKM_HOST): set AKM_HOST to one of its interfaces, or 0.0.0.0`;
    default:
      return `cannot listen on ${where} (${check.variable}=${check.port}): ${err.code ?? err.message}`;
  }
}

/**
 * Resolves when every port can be listened on; otherwise throws a {@link StartupError}
 * (exit {@link PORT_UNAVAILABLE_EXIT_CODE}) naming the variable to set. Two variables set to the
 * same port are refused too.
 */
export async function checkPortsFree(ports: readonly PortToCheck[]): Promise<void> {
  const seen = new Map<number, string>();
  for (const check of ports) {
    if (check.port === 0) continue;
    const other = seen.get(check.port);
    if (other) {
      throw new StartupError(`${other} and ${check.variable} are both ${check.port}: set one of them to another port`, PORT_UNAVAILABLE_EXIT_CODE);
    }
    seen.set(check.port, check.variable);
    const err = await tryListen(check.port, check.host);
    if (err) throw new StartupError(messageOf(check, err), PORT_UNAVAILABLE_EXIT_CODE);
  }
}
