import type { Clock } from '../clock';
import type { FetchFn } from '../jwt/key-set-source';
import { type AccessTokenSource, cachedAccessToken, requestServiceAccountToken } from '../keys/adc';
import { GoogleApiError } from '../keys/google-http';
import { ResilientEndpoint } from '../outbound/resilient-endpoint';
import type { ServiceAccountKey } from './service-account';

export const FIREBASE_SCOPES = [
  'https://www.googleapis.com/auth/identitytoolkit',
  'https://www.googleapis.com/auth/cloud-platform',
] as const;

/**
 * Access tokens for the signing service account itself (OAuth 2.0 JWT-bearer grant at
 * GOOGLE_TOKEN_URL), signed with the keyring's current key so it follows rotations. Cached until
 * five minutes before expiry; one refresh at a time; transient failures retried with jitter.
 */
export class ServiceAccountTokenSource implements AccessTokenSource {
  private cached?: { token: string; refreshAt: number; expiresAt: number; kid: string };
  private inFlight?: Promise<string>;
  private readonly endpoint: ResilientEndpoint;

  constructor(
    private readonly options: {
      currentKey: () => ServiceAccountKey | undefined;
      tokenUrl: string;
      fetch: FetchFn;
      clock: Clock;
      timeoutMs: number;
      scopes?: readonly string[];
    },
  ) {
    this.endpoint = new ResilientEndpoint('oauth-token', options.clock);
  }

  async accountEmail(): Promise<string | undefined> {
    return this.options.currentKey()?.clientEmail;
  }

  async getAccessToken(): Promise<string> {
    const key = this.options.currentKey();
    const now = this.options.clock();
    if (this.cached && now < this.cached.refreshAt && this.cached.kid === key?.privateKeyId) return this.cached.token;
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<string> {
    const key = this.options.currentKey();
    if (!key) throw new GoogleApiError('no signing key loaded to request an access token with');
    const { fetch, tokenUrl, timeoutMs, clock } = this.options;
    const body = await this.endpoint.call(() =>
      requestServiceAccountToken(key, this.options.scopes ?? FIREBASE_SCOPES, { fetch, tokenUrl, timeoutMs, clock }),
    );
    this.cached = { ...cachedAccessToken(body, clock()), kid: key.privateKeyId };
    return this.cached.token;
  }
}
