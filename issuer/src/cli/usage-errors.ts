/**
 * Commander's usage errors (unknown command or option, missing argument or option, bad option
 * value, a command group called without its command) as one line that names the help to read,
 * instead of commander's message followed by the whole help.
 */
import type { Command, CommanderError } from 'commander';

/** Exit code of a usage error (the shell convention for a misused command). */
export const USAGE_EXIT_CODE = 2;

/** Watches a program's usage errors; see {@link watchUsageErrors}. */
export interface UsageErrors {
  /** The one line to print for `err`, or undefined when it is no error (help asked for). */
  lineOf(err: CommanderError): string | undefined;
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Makes `program` and every command under it throw a {@link CommanderError} instead of
 * exiting, and print nothing on error: the caller prints {@link UsageErrors.lineOf}. Help
 * asked for (`--help`, `akm help …`) still goes to stdout. Call it once every command is added:
 * commands built with `new Command` and `addCommand` inherit nothing from their parent.
 */
export function watchUsageErrors(program: Command): UsageErrors {
  let failed: Command = program;
  const visit = (command: Command) => {
    command
      .exitOverride()
      .showHelpAfterError(false)
      .configureOutput({
        // Commander writes to stderr only for errors and for the help it shows when a group
        // is called without a command; both become the caller's one line.
        writeErr: () => {
          failed = command;
        },
        outputError: () => {
          failed = command;
        },
      });
    for (const sub of command.commands) visit(sub);
  };
  visit(program);

  return {
    lineOf(err) {
      if (err.exitCode === 0) return undefined;
      const what =
        err.code === 'commander.help'
          ? 'missing command'
          : err.message
              .replace(/^error: /, '')
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean)
              .join(' ');
      return `${what} (see ${pathOf(failed)} --help)`;
    },
  };
}
