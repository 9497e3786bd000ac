import type { KeyObject } from 'node:crypto';
import { JWT } from 'google-auth-library';
import type { Clock } from '../clock';
import { GoogleApiError } from '../errors';
import type { FetchFn } from '../outbound/fetch';
import { type AccessTokenSource, CachedAccessToken } from './access-token';
import { ALWAYS_REFRESH, tokenFrom } from './credentials';
import { googleTransport } from './transport';

export const FIREBASE_SCOPES = [
  'https://www.googleapis.com/auth/identitytoolkit',
  'https://www.googleapis.com/auth/cloud-platform',
] as const;

/** The signing account's current key, as the keyring holds it. */
export interface CurrentServiceAccountKey {
  clientEmail: string;
  privateKeyId: string;
  privateKey: KeyObject;
}

export interface ServiceAccountTokenSourceOptions {
  /** The keyring's current key: tokens follow rotations. */
  currentKey: () => CurrentServiceAccountKey | undefined;
  /** GOOGLE_TOKEN_URL. */
  tokenUrl: string;
  fetch: FetchFn;
  clock: Clock;
  timeoutMs: number;
  scopes?: readonly string[];
}

/**
 * Access tokens for the signing service account itself (OAuth 2.0 JWT-bearer grant, by
 * google-auth-library's JWT client at GOOGLE_TOKEN_URL), signed with the keyring's current key so
 * it follows rotations: a new kid means a new client and a new token. Cached until five minutes
 * before expiry; one refresh at a time. No retries here: the caller's policy retries whole calls.
 */
export class ServiceAccountTokenSource implements AccessTokenSource {
  private client?: { kid: string; jwt: JWT };
  private readonly cache: CachedAccessToken;

  constructor(private readonly options: ServiceAccountTokenSourceOptions) {
    this.cache = new CachedAccessToken(options.clock, () => this.fetchToken(), () => options.currentKey()?.privateKeyId);
  }

  async accountEmail(): Promise<string | undefined> {
    return this.options.currentKey()?.clientEmail;
  }

  getAccessToken(): Promise<string> {
    return this.cache.get();
  }

  invalidate(token: string): void {
    this.cache.invalidate(token);
  }

  private clientFor(key: CurrentServiceAccountKey): JWT {
    if (this.client?.kid !== key.privateKeyId) {
      const { fetch, tokenUrl, timeoutMs } = this.options;
      const jwt = new JWT({
        email: key.clientEmail,
        key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        keyId: key.privateKeyId,
        scopes: [...(this.options.scopes ?? FIREBASE_SCOPES)],
        transporter: googleTransport({ fetch, tokenUrl, timeoutMs }),
        ...ALWAYS_REFRESH,
      });
      this.client = { kid: key.privateKeyId, jwt };
    }
    return this.client.jwt;
  }

  private async fetchToken() {
    const key = this.options.currentKey();
    if (!key) throw new GoogleApiError('no signing key loaded to request an access token with');
    return tokenFrom(this.clientFor(key), 'OAuth token endpoint', this.options.timeoutMs);
  }
}
