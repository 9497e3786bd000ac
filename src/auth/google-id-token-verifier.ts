import type { Clock } from '../clock';
import { InvalidTokenError } from '../errors';
import { checkStringClaim, checkTimes } from '../jwt/claims';
import type { JsonObject } from '../jwt/decode';
import type { KeySetCache } from '../jwt/key-set-cache';
import { checkSignature, decodeRs256 } from '../jwt/verify-jws';
import { ON_LOOP } from '../jwt/rs256';
import { OutcomeCounts } from '../outcomes';
import { otherKindRefusal } from './token-kind';

export const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'] as const;

/** What a verified Google ID token says about the account. */
export interface GoogleIdentity {
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  picture?: string;
  /** Google Workspace hosted domain. */
  hd?: string;
  /** The client that asked for the token (an Android/iOS client ID). */
  azp?: string;
  aud: string;
  iat: number;
  exp: number;
  nonce?: string;
  /** The whole payload, for policy checks that need more. */
  claims: JsonObject;
}

export interface GoogleIdTokenVerifierOptions {
  keys: KeySetCache;
  clientIds: readonly string[];
  skewSeconds: number;
  clock: Clock;
}

/** Google's `sub`: case-sensitive ASCII, at most 255 characters. */
const GOOGLE_SUB = /^[\x21-\x7e]{1,255}$/;

function optionalString(payload: JsonObject, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Verifies a Google ID token as Google documents: RS256 with a key from Google's published set,
 * iss accounts.google.com, aud one of our client IDs, exp in the future, iat not in the future.
 */
export class GoogleIdTokenVerifier {
  /** Verifications by outcome and error code (firebridge_verifications_total{token="google"}). */
  readonly outcomes = new OutcomeCounts();

  constructor(private readonly options: GoogleIdTokenVerifierOptions) {}

  async verify(token: unknown): Promise<GoogleIdentity> {
    try {
      const identity = await this.verifyToken(token);
      this.outcomes.succeeded();
      return identity;
    } catch (err) {
      // A Firebase ID token (or an Auth Emulator token) sent here: say so instead of which check failed.
      const refusal = (err instanceof InvalidTokenError && otherKindRefusal(token, 'google')) || err;
      this.outcomes.failed(refusal);
      throw refusal;
    }
  }

  private async verifyToken(token: unknown): Promise<GoogleIdentity> {
    const decoded = decodeRs256(token);
    const { payload } = decoded;
    checkStringClaim(payload, 'iss', GOOGLE_ISSUERS, 'ERR_CLAIM_ISS');
    const aud = checkStringClaim(payload, 'aud', this.options.clientIds, 'ERR_CLAIM_AUD');
    const nowSeconds = Math.floor(this.options.clock() / 1000);
    const { iat, exp } = checkTimes(payload, nowSeconds, this.options.skewSeconds, ['iat']);
    const sub = payload.sub;
    if (typeof sub !== 'string' || !GOOGLE_SUB.test(sub)) {
      throw new InvalidTokenError('"sub" claim is missing or not a Google account ID', 'ERR_CLAIM_SUB');
    }
    await checkSignature(decoded, this.options.keys, ON_LOOP);

    const verified = payload.email_verified;
    return {
      sub,
      aud,
      iat,
      exp,
      email: optionalString(payload, 'email'),
      emailVerified: verified === true || verified === 'true',
      name: optionalString(payload, 'name'),
      picture: optionalString(payload, 'picture'),
      hd: optionalString(payload, 'hd'),
      azp: optionalString(payload, 'azp'),
      nonce: optionalString(payload, 'nonce'),
      claims: payload,
    };
  }
}
