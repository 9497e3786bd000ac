import type { Clock } from '../clock';
import { SigningUnavailableError } from '../errors';
import { encodeBase64Url } from '../jwt/base64url';
import type { JsonObject } from '../jwt/decode';
import type { CryptoSigner } from './crypto-signer';
import { CUSTOM_TOKEN_TTL_SECONDS, customTokenPayload } from './custom-token';

export interface MintedCustomToken {
  customToken: string;
  expiresIn: number;
  /** The signing key's ID (for logs and audits; not secret). */
  kid: string;
}

/** Mints Firebase custom tokens (the exchange's port; readiness for /readyz). */
export interface CustomTokenMinter {
  /** Whether a signing key is usable (readiness). */
  isReady(): boolean;
  mint(uid: string, claims: JsonObject): Promise<MintedCustomToken>;
}

/**
 * Builds Firebase custom tokens and has a CryptoSigner sign them, as firebase-admin's
 * FirebaseTokenGenerator does: the header and payload are built here once for every signer, so
 * a key file, IAM signBlob and local mode produce the same tokens.
 */
export class CustomTokenGenerator implements CustomTokenMinter {
  constructor(
    private readonly signer: CryptoSigner,
    private readonly clock: Clock,
    /** FIREBASE_TENANT_ID: custom tokens then carry `tenant_id` (the user signs in to that tenant). */
    private readonly tenantId?: string,
  ) {}

  isReady(): boolean {
    return this.signer.isReady();
  }

  async mint(uid: string, claims: JsonObject): Promise<MintedCustomToken> {
    const key = this.signer.signingKey();
    if (!key) throw new SigningUnavailableError('no signing key is loaded');
    const payload = customTokenPayload(key.accountEmail, uid, claims, Math.floor(this.clock() / 1000), this.tenantId);
    const header: JsonObject = { alg: this.signer.algorithm, typ: 'JWT' };
    if (key.kid !== undefined) header.kid = key.kid;
    const signingInput = `${encodeBase64Url(JSON.stringify(header))}.${encodeBase64Url(JSON.stringify(payload))}`;
    const { signature, kid } = await key.sign(Buffer.from(signingInput));
    return { customToken: `${signingInput}.${encodeBase64Url(signature)}`, expiresIn: CUSTOM_TOKEN_TTL_SECONDS, kid };
  }
}
