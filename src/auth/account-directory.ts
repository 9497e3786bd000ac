/** What the revocation rules need to know of a Firebase user. */
export interface AccountState {
  /** false when Identity Toolkit has no such user (deleted). */
  exists: boolean;
  disabled: boolean;
  /** Sessions whose auth_time is before this (seconds) are revoked. */
  validSince?: number;
}

/**
 * The port of the Firebase user directory the revocation check and the admin revoke use;
 * implemented by google/identity-toolkit.ts.
 */
export interface AccountDirectory {
  lookup(uid: string): Promise<AccountState>;
  /** Revokes every session of the user: ID tokens issued before `validSinceSeconds` stop passing. */
  revokeSessions(uid: string, validSinceSeconds: number): Promise<void>;
}
