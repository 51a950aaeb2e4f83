/**
 * The built entry points, run with plain `node` as production runs them (`npm test` builds
 * first). Paths are relative to the repository root, the working directory of every test run.
 */
export const ENTRY_POINTS = {
  /** `npm start`: the issuer and a verifier in one process. */
  all: 'dist/main.js',
  issuer: 'issuer/dist/main.js',
  verifier: 'verifier/dist/main.js',
} as const;
