import type { Clock } from '../clock';
import { InvalidTokenError } from '../errors';
import { checkStringClaim, checkTimes } from '../jwt/claims';
import { type JsonObject, decodeUnsignedJwt } from '../jwt/decode';
import type { KeySetCache } from '../jwt/key-set-cache';
import { checkSignature, decodeRs256 } from '../jwt/verify-jws';
import type { FirebaseTokenVerifier, FirebaseUser } from './firebase-token-verifier';
import { otherKindRefusal } from './token-kind';

export type { FirebaseUser };

export interface FirebaseIdTokenVerifierOptions {
  keys: KeySetCache;
  projectId: string;
  skewSeconds: number;
  clock: Clock;
  /**
   * The Identity Platform tenant whose tokens are accepted (FIREBASE_TENANT_ID): `firebase.tenant`
   * must name it, as firebase-admin's TenantAwareAuth checks. Unset: tokens of any tenant are refused.
   */
  tenantId?: string;
  /**
   * FIREBASE_AUTH_EMULATOR_HOST is set: the Auth Emulator's unsigned tokens (`alg: "none"`, an empty
   * signature) are accepted, every claim still checked, as firebase-admin does with the emulator.
   * Signed tokens are still signature-checked. Never set in production (src/config/emulator.ts).
   */
  acceptUnsignedEmulatorTokens?: boolean;
}

export const MAX_UID_LENGTH = 128;

/** The token's `firebase.tenant` claim (undefined when the token names no tenant). */
function tenantOf(payload: JsonObject): unknown {
  const firebase = payload.firebase;
  return typeof firebase === 'object' && firebase !== null && !Array.isArray(firebase)
    ? (firebase as JsonObject).tenant
    : undefined;
}

export function firebaseIssuer(projectId: string): string {
  return `https://securetoken.google.com/${projectId}`;
}

/**
 * Verifies a Firebase ID token as Firebase documents: RS256 with a kid from the securetoken
 * x509 certificates, aud the project ID, iss securetoken.google.com/<project>, sub a non-empty
 * string of at most 128 characters, exp in the future, iat and auth_time not in the future;
 * `firebase.tenant` the configured tenant, or absent when none is.
 */
export class FirebaseIdTokenVerifier implements FirebaseTokenVerifier {
  private readonly issuer: string;
  private readonly emulator: boolean;

  constructor(private readonly options: FirebaseIdTokenVerifierOptions) {
    this.issuer = firebaseIssuer(options.projectId);
    this.emulator = options.acceptUnsignedEmulatorTokens === true;
  }

  async verify(token: unknown): Promise<FirebaseUser> {
    try {
      return await this.verifyToken(token);
    } catch (err) {
      // A Google ID token (or, without the emulator, an Auth Emulator token) sent here: say so
      // instead of which check failed. With the emulator, its tokens keep their precise reason.
      throw (err instanceof InvalidTokenError && otherKindRefusal(token, 'firebase', { emulator: this.emulator })) || err;
    }
  }

  private async verifyToken(token: unknown): Promise<FirebaseUser> {
    // Only with the emulator, and only for a token whose signature part is empty: one branch, so
    // signed tokens take the same path (and cost) as without the emulator.
    if (this.emulator && typeof token === 'string' && token.endsWith('.')) {
      const unsigned = decodeUnsignedJwt(token);
      if (unsigned.header.crit !== undefined) {
        throw new InvalidTokenError('token header has unsupported "crit" parameters', 'ERR_JWT_MALFORMED');
      }
      return this.checkClaims(unsigned.payload);
    }
    const decoded = decodeRs256(token);
    const user = this.checkClaims(decoded.payload);
    await checkSignature(decoded, this.options.keys);
    return user;
  }

  /** Every claim check, the same for signed and (with the emulator) unsigned tokens. */
  private checkClaims(payload: JsonObject): FirebaseUser {
    checkStringClaim(payload, 'aud', [this.options.projectId], 'ERR_CLAIM_AUD');
    checkStringClaim(payload, 'iss', [this.issuer], 'ERR_CLAIM_ISS');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_UID_LENGTH) {
      throw new InvalidTokenError('"sub" claim must be a non-empty string of at most 128 characters', 'ERR_CLAIM_SUB');
    }
    const tenant = tenantOf(payload);
    if (this.options.tenantId === undefined && tenant !== undefined) {
      throw new InvalidTokenError('the token belongs to an Identity Platform tenant ("firebase.tenant"); this server accepts no tenant', 'ERR_CLAIM_TENANT');
    }
    if (this.options.tenantId !== undefined && tenant !== this.options.tenantId) {
      throw new InvalidTokenError('"firebase.tenant" claim does not name this server\'s tenant', 'ERR_CLAIM_TENANT');
    }
    const nowSeconds = Math.floor(this.options.clock() / 1000);
    const { exp } = checkTimes(payload, nowSeconds, this.options.skewSeconds, ['iat', 'auth_time']);
    return { uid: sub, claims: payload, exp };
  }
}
