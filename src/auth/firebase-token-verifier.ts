import type { JsonObject } from '../jwt/decode';

/** A verified Firebase user: the uid and every claim of the ID token. */
export interface FirebaseUser {
  uid: string;
  claims: JsonObject;
  /** Token expiry, seconds since the epoch. */
  exp: number;
}

/**
 * The port every consumer of Firebase ID tokens depends on (the middleware, the passport
 * strategy, /v1/me): anything that turns a token into a user. Implementations: the verifier
 * (FirebaseIdTokenVerifier), the cache of verified tokens, the revocation check around either.
 */
export interface FirebaseTokenVerifier {
  verify(token: string): Promise<FirebaseUser>;
  /**
   * Optional synchronous answer for a token already verified and still valid (a cache hit), or
   * undefined to take the async path. A verifier with per-request checks (revocation) must not
   * offer it, so those checks always run.
   */
  peek?(token: string): FirebaseUser | undefined;
}
