/**
 * What the issuer keeps about each signing key beside its private half (a port: `store/`
 * implements it): the public JWK and how long tokens it signed may live.
 */

/** A signing key's public record. */
export interface SigningKeyRecord {
  /** RFC 7638 thumbprint. */
  kid: string;
  /** The public JWK, as published in the JWKS, serialized. */
  publicJwk: string;
  /** Milliseconds since epoch. */
  createdAt: number;
  /** Milliseconds since epoch; null while it is the current key. */
  retiredAt: number | null;
  /**
   * Milliseconds since epoch when it began to sign; null while it is only published (the next
   * key, in the JWKS ahead of its first token).
   */
  activatedAt: number | null;
  /** Latest `exp` (seconds since epoch) of any token it signed. */
  maxExp: number;
}

/** Reads and writes signing key records. */
export interface SigningKeyRepository {
  /** Every record, oldest first. */
  all(): Promise<SigningKeyRecord[]>;
  /** The kid of the current (newest activated, unretired) key. */
  currentKid(): Promise<string | undefined>;
  /** The kid of the next key: published, not yet signing. */
  nextKid(): Promise<string | undefined>;
  /**
   * Makes a key current, adding it unless it is known, and retires every other current one; in
   * one transaction. A pre-published key becomes current this way.
   */
  adopt(kid: string, publicJwk: string, nowMs: number): Promise<void>;
  /** Adds a key to publish before it signs (the next key), retiring any other next key; in one transaction. */
  prepublish(kid: string, publicJwk: string, nowMs: number): Promise<void>;
  /** Raises the key's `maxExp` to `exp` (seconds) if that is later. */
  extend(kid: string, exp: number): Promise<void>;
}
