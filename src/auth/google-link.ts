/**
 * Ports of Google account linking: what the exchange needs to link an account at sign-in, and what
 * the vault (src/vault) needs from Google's OAuth endpoints (implemented in src/google/oauth.ts).
 */

/** What the sign-in reply says of the link (`"google"` in POST /v1/token/google's JSON). */
export type GoogleLinkOutcome =
  | { linked: true; scopes: string[] }
  | { linked: false; reason: 'no_refresh_token' | 'invalid_grant' | 'unavailable' | 'account_mismatch'; scopes?: string[] };

/** Links the signed-in user's Google account from a server auth code. Never throws: the sign-in never fails for it. */
export interface AccountLinker {
  link(uid: string, googleSub: string, serverAuthCode: string, redirectUri: string): Promise<GoogleLinkOutcome>;
}

/** What Google's token endpoint answered for a code. */
export interface CodeGrant {
  accessToken: string;
  /** Epoch ms, on the injected clock. */
  expiresAt: number;
  scopes: string[];
  /** Only on first consent (or with prompt=consent). */
  refreshToken?: string;
  /** The ID token that came with the code (its `sub` must be the signed-in account's). */
  idToken?: string;
}

export interface RefreshedAccessToken {
  accessToken: string;
  expiresAt: number;
  scopes: string[];
}

/**
 * Google's OAuth endpoints for the web client. Refusals of a code or refresh token throw
 * GoogleGrantError (invalid_grant); anything else (unreachable, 5xx) another error.
 */
export interface GoogleOAuthPort {
  /** Sent exactly once: a code is single-use. */
  exchangeCode(code: string, redirectUri: string): Promise<CodeGrant>;
  refresh(refreshToken: string): Promise<RefreshedAccessToken>;
  revoke(token: string): Promise<void>;
}
