/**
 * The one error the CLI prints as a line before exiting non-zero.
 */

/** An error the CLI prints as one line before exiting non-zero. */
export class CliError extends Error {
  /** The issuer's problem code (`not_found`, `forbidden`, …), when the issuer refused. */
  readonly code: string | undefined;

  constructor(message: string, options: { code?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = options.code;
  }
}
