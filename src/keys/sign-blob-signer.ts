import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { CUSTOM_TOKEN_TTL_SECONDS, customTokenPayload } from '../auth/custom-token';
import type { CustomTokenSigner, MintedCustomToken } from '../auth/signer';
import { SigningUnavailableError } from '../errors';
import { decodeBase64Url, encodeBase64Url } from '../jwt/base64url';
import type { JsonObject } from '../jwt/decode';
import type { FetchFn } from '../jwt/key-set-source';
import type { AccessTokenSource } from './adc';
import { ResilientEndpoint } from '../outbound/resilient-endpoint';
import { callGoogleJson } from './google-http';

const RETRY_MS = 5000;

export interface SignBlobSignerOptions {
  /** The service account custom tokens are signed as (iss = sub). */
  serviceAccountEmail: string;
  /** Base of the IAM Credentials API, e.g. https://iamcredentials.googleapis.com. */
  baseUrl: string;
  tokens: AccessTokenSource;
  fetch: FetchFn;
  clock: Clock;
  timeoutMs: number;
  logger: Logger;
  /** FIREBASE_TENANT_ID: custom tokens then carry `tenant_id`. */
  tenantId?: string;
}

/**
 * Keyless signing: the custom token's signing input is signed by Google with a key of the service
 * account it manages and rotates (IAM Credentials `signBlob`); no private key exists on disk or
 * in this process. The header carries no kid (it is fixed before Google picks the key); Firebase
 * tries the account's public keys. Readiness follows the last attempt: a failed access-token fetch
 * or signBlob call makes the bridge unready until one succeeds.
 */
export class SignBlobSigner implements CustomTokenSigner {
  private ready = false;
  private lastWarmAt = Number.NEGATIVE_INFINITY;
  private warming?: Promise<void>;
  /** signBlob is safe to repeat: transient failures are retried; a failing API trips a circuit. */
  private readonly endpoint: ResilientEndpoint;

  constructor(private readonly options: SignBlobSignerOptions) {
    this.endpoint = new ResilientEndpoint('iamcredentials-signblob', options.clock);
  }

  /**
   * Whether signing works, as of the last attempt. While unready, a readiness probe also starts a
   * background retry (at most every RETRY_MS), so an instance taken out of rotation recovers.
   */
  isReady(): boolean {
    if (!this.ready && this.options.clock() - this.lastWarmAt >= RETRY_MS) void this.warm();
    return this.ready;
  }

  /** Obtains an access token (at start, and to recover), so readiness is known before a request needs it. */
  warm(): Promise<void> {
    this.warming ??= (async () => {
      this.lastWarmAt = this.options.clock();
      try {
        await this.options.tokens.getAccessToken();
        this.ready = true;
      } catch (err) {
        this.ready = false;
        this.options.logger.error({ err: (err as Error).message }, 'keyless signing: no access token from Application Default Credentials');
      }
    })().finally(() => {
      this.warming = undefined;
    });
    return this.warming;
  }

  async mint(uid: string, claims: JsonObject): Promise<MintedCustomToken> {
    const { serviceAccountEmail, baseUrl, fetch: fetchFn, timeoutMs, clock, tokens, logger } = this.options;
    const payload = customTokenPayload(serviceAccountEmail, uid, claims, Math.floor(clock() / 1000), this.options.tenantId);
    const signingInput = `${encodeBase64Url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${encodeBase64Url(JSON.stringify(payload))}`;
    let body: Record<string, unknown>;
    try {
      const accessToken = await tokens.getAccessToken();
      body = await this.endpoint.call(() =>
        callGoogleJson(
          fetchFn,
          'IAM Credentials signBlob',
          `${baseUrl}/v1/projects/-/serviceAccounts/${encodeURIComponent(serviceAccountEmail)}:signBlob`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ payload: Buffer.from(signingInput).toString('base64') }),
          },
          timeoutMs,
        ),
      );
    } catch (err) {
      this.ready = false;
      logger.error({ err: (err as Error).message }, 'keyless signing failed');
      throw new SigningUnavailableError('custom tokens cannot be signed right now');
    }
    const signedBlob = typeof body.signedBlob === 'string' ? body.signedBlob : '';
    // signBlob answers standard base64; accept base64url too.
    const signature = /^[A-Za-z0-9+/]+={0,2}$/.test(signedBlob) ? Buffer.from(signedBlob, 'base64') : decodeBase64Url(signedBlob);
    if (!signature || signature.length < 256) {
      this.ready = false;
      logger.error('keyless signing: signBlob answered without a usable signature');
      throw new SigningUnavailableError('custom tokens cannot be signed right now');
    }
    this.ready = true;
    const kid = typeof body.keyId === 'string' ? body.keyId : 'iam-signblob';
    return { customToken: `${signingInput}.${encodeBase64Url(signature)}`, expiresIn: CUSTOM_TOKEN_TTL_SECONDS, kid };
  }
}
