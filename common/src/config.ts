/**
 * Configuration from environment variables, validated at start-up with zod. A wrong value
 * stops the process with a message that names the variable.
 */
import { z } from 'zod';
import { StartupError } from './run-main.js';

/** A configuration value was missing or invalid; the message names the variable. Exit code 78 (EX_CONFIG). */
export class ConfigError extends StartupError {
  constructor(message: string) {
    super(message, 78);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with a zod object schema whose keys are the variable names.
 * @throws ConfigError naming every invalid variable.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const value = env[name];
    return `  ${name}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
  });
  return fail(`invalid configuration:\n${lines.join('\n')}`);
}

function fail(message: string): never {
  throw new ConfigError(message);
}

/** An empty string counts as unset, so `FOO=` in a .env file means "use the default". */
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

/** A TCP port (0 lets the OS choose). */
export const portVar = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65535).default(fallback));

/** A positive whole number. */
export const positiveIntVar = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(fallback));

/**
 * An optional URL (or comma-separated URLs for NATS). With `schemes` (e.g. `['redis:', 'rediss:']`)
 * only those are accepted: `localhost:6379` parses as a URL of scheme `localhost:`, and a client
 * given a scheme it does not know may quietly connect somewhere else.
 */
export const optionalUrlVar = (schemes?: readonly string[]) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => v.split(',').every((u) => URL.canParse(u.trim())), 'must be a URL')
      .refine(
        (v) => !schemes || v.split(',').every((u) => !URL.canParse(u.trim()) || schemes.includes(new URL(u.trim()).protocol)),
        `must be a ${(schemes ?? []).map((s) => `${s}//`).join(' or ')} URL`,
      )
      .optional(),
  );

/** A string with a default. */
export const stringVar = (fallback: string) => z.preprocess(unsetIfEmpty, z.string().min(1).default(fallback));

/** A pino log level. */
export const logLevelVar = () =>
  z.preprocess(
    unsetIfEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  );
