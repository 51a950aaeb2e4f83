/**
 * Where the private halves of generated signing keys are kept (a port: `store/` implements it):
 * files in the data directory (one issuer), or the database encrypted under `AKM_MASTER_KEY`
 * (replicas, which must all sign with the key any of them rotated to). Never in clear in a database.
 */
import type { JWK } from 'jose';

/** Keeps private signing keys (Ed25519 JWKs with `d`). */
export interface PrivateSigningKeys {
  /** Keeps the private key of `kid`. */
  save(kid: string, privateJwk: JWK): Promise<void>;
  /** The private key of `kid`, or undefined when it is not kept here (lost, or made elsewhere). */
  load(kid: string): Promise<JWK | undefined>;
}
