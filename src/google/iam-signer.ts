import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { CryptoSigner, SigningKey } from '../auth/crypto-signer';
import { SigningUnavailableError } from '../errors';
import { decodeBase64Url } from '../jwt/base64url';
import type { GoogleApiClient } from './client';

const RETRY_MS = 5000;

export interface IamSignerOptions {
  /** The service account custom tokens are signed as (iss = sub). */
  serviceAccountEmail: string;
  /** Base of the IAM Credentials API, e.g. https://iamcredentials.googleapis.com. */
  baseUrl: string;
  /** Authorized with the ADC tokens (the account must have iam.serviceAccounts.signBlob on the signing account). */
  client: GoogleApiClient;
  /** The same token source, to warm up (readiness) without signing. */
  warmUp: () => Promise<unknown>;
  clock: Clock;
  logger: Logger;
}

/**
 * Keyless signing, after firebase-admin's IAMSigner: the bytes are signed by Google with a key of
 * the service account it manages and rotates (IAM Credentials `signBlob`); no private key exists on
 * disk or in this process. There is no kid before signing (Google picks the key; Firebase tries the
 * account's public keys). Readiness follows the last attempt: a failed access-token fetch or
 * signBlob call makes the bridge unready until one succeeds.
 */
export class IamSigner implements CryptoSigner {
  readonly algorithm = 'RS256';
  private ready = false;
  private lastWarmAt = Number.NEGATIVE_INFINITY;
  private warming?: Promise<void>;

  constructor(private readonly options: IamSignerOptions) {}

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
        await this.options.warmUp();
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

  signingKey(): SigningKey {
    return { accountEmail: this.options.serviceAccountEmail, sign: (data) => this.signBlob(data) };
  }

  private async signBlob(data: Buffer): Promise<{ signature: Buffer; kid: string }> {
    const { serviceAccountEmail, baseUrl, client, logger } = this.options;
    let body: Record<string, unknown>;
    try {
      body = await client.call(
        'iamcredentials-signblob',
        'IAM Credentials signBlob',
        `${baseUrl}/v1/projects/-/serviceAccounts/${encodeURIComponent(serviceAccountEmail)}:signBlob`,
        { method: 'POST', body: { payload: data.toString('base64') } },
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
    return { signature, kid: typeof body.keyId === 'string' ? body.keyId : 'iam-signblob' };
  }
}
