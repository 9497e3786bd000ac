import type { Clock } from '../clock';
import { SigningUnavailableError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import { signRs256Jwt } from '../jwt/rs256';
import { CUSTOM_TOKEN_TTL_SECONDS, customTokenPayload } from './custom-token';
import type { ServiceAccountKey } from './service-account';

export interface MintedCustomToken {
  customToken: string;
  expiresIn: number;
  /** The signing key's ID (for logs and audits; not secret). */
  kid: string;
}

/** Mints Firebase custom tokens. Implementations: a key file (here), IAM signBlob (keyless). */
export interface CustomTokenSigner {
  /** Whether a signing key is loaded (readiness). */
  isReady(): boolean;
  mint(uid: string, claims: JsonObject): Promise<MintedCustomToken>;
}

/**
 * Signs with a service-account private key held in memory. The key can be swapped at any time
 * (key rotation); a mint in progress finishes with the key it started with.
 */
export class ServiceAccountSigner implements CustomTokenSigner {
  constructor(
    private key: ServiceAccountKey | undefined,
    private readonly clock: Clock,
    /** FIREBASE_TENANT_ID: custom tokens then carry `tenant_id`. */
    private readonly tenantId?: string,
  ) {}

  isReady(): boolean {
    return this.key !== undefined;
  }

  setKey(key: ServiceAccountKey): void {
    this.key = key;
  }

  currentKey(): ServiceAccountKey | undefined {
    return this.key;
  }

  async mint(uid: string, claims: JsonObject): Promise<MintedCustomToken> {
    const key = this.key;
    if (!key) throw new SigningUnavailableError('no signing key is loaded');
    const payload = customTokenPayload(key.clientEmail, uid, claims, Math.floor(this.clock() / 1000), this.tenantId);
    const customToken = await signRs256Jwt({ typ: 'JWT', kid: key.privateKeyId }, payload, key.privateKey);
    return { customToken, expiresIn: CUSTOM_TOKEN_TTL_SECONDS, kid: key.privateKeyId };
  }
}
