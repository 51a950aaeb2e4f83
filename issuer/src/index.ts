/**
 * The issuer's public surface: start it, or use its parts from the CLI.
 */
export { startIssuer } from './issuer.js';
export type { IssuerOptions, RunningIssuer } from './issuer.js';
export { issuerEnvSchema, loadIssuerEnv } from './config.js';
export type { IssuerEnv } from './config.js';
export { openDatabase } from './store/database.js';
export type { Db, Migration } from './store/database.js';
export { openSigningKeys } from './domain/signing-keys.js';
export type { SigningKeys, SigningKeysOptions } from './domain/signing-keys.js';
export { mintSessionToken } from './domain/session-tokens.js';
export type { MintSessionOptions } from './domain/session-tokens.js';
export type { Principal } from './http/auth.js';
export type { KeyView } from './http/key-view.js';
