import type { Clock } from '../clock';
import type { FetchFn } from '../jwt/key-set-source';
import { signRs256Jwt } from '../jwt/rs256';
import type { AccessTokenSource } from '../keys/adc';
import { GoogleApiError, callGoogleJson } from '../keys/google-http';
import { CircuitBreaker } from '../outbound/circuit-breaker';
import { withRetries } from '../outbound/retry';
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
  private readonly circuit: CircuitBreaker;

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
    this.circuit = new CircuitBreaker({ name: 'oauth-token', clock: options.clock });
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
    const { fetch: fetchFn, tokenUrl, timeoutMs, clock } = this.options;
    // Retries outside the circuit, so each attempt counts and an open circuit stops them.
    const body = await withRetries(
      () =>
        this.circuit.run(async () => {
          const iat = Math.floor(clock() / 1000);
          const assertion = await signRs256Jwt(
            { typ: 'JWT', kid: key.privateKeyId },
            { iss: key.clientEmail, scope: (this.options.scopes ?? FIREBASE_SCOPES).join(' '), aud: tokenUrl, iat, exp: iat + 3600 },
            key.privateKey,
          );
          const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
          return callGoogleJson(
            fetchFn,
            'OAuth token endpoint',
            tokenUrl,
            { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
            timeoutMs,
          );
        }),
      {
        retries: 2,
        baseDelayMs: 100,
        retryable: (err) => err instanceof GoogleApiError && (err.status === undefined || err.status >= 500 || err.status === 429),
      },
    );
    const token = body.access_token;
    const expiresIn = Number(body.expires_in);
    if (typeof token !== 'string' || token === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new GoogleApiError('the token endpoint answered without access_token / expires_in');
    }
    const now = clock();
    const lifetimeMs = expiresIn * 1000;
    this.cached = {
      token,
      kid: key.privateKeyId,
      expiresAt: now + lifetimeMs,
      refreshAt: now + lifetimeMs - Math.min(5 * 60_000, lifetimeMs / 2),
    };
    return token;
  }
}
