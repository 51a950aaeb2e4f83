/**
 * Sign-in tokens ended before their expiry by signing out (a port: `store/` implements it).
 *
 * Why a list of token ids and not the user's session epoch: the epoch ends every sign-in of a
 * user at once (what a password change must do), but signing out of one place (the CLI) must
 * not sign the user out of every other (a browser). The list only holds tokens that were ended
 * and have not expired yet — at most a sign-in lifetime (`AKM_SESSION_TTL_S`) of sign-outs — and
 * is looked up by primary key on each signed-in request. Signing out everywhere moves the epoch.
 */

/** Ended sign-in tokens, until they would have expired anyway. */
export interface EndedSessions {
  /** Ends the token `jti`, which expires at `expiresAt` (seconds since epoch). Forgets expired entries. */
  end(jti: string, expiresAt: number, nowSeconds: number): Promise<void>;
  /** True when the token `jti` was ended. */
  isEnded(jti: string): Promise<boolean>;
}
