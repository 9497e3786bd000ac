import { InvalidRequestError } from '../errors';
import type { JsonObject } from '../jwt/decode';
import type { GoogleIdentity } from './google-id-token-verifier';

export const FIREBASE_AUDIENCE =
  'https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit';

/** Custom tokens live one hour at most; Firebase refuses longer ones. */
export const CUSTOM_TOKEN_TTL_SECONDS = 3600;

/** Claim names Firebase reserves; they may never appear in developer claims. */
export const RESERVED_CLAIMS = new Set([
  'acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'cnf', 'c_hash', 'exp', 'firebase', 'iat', 'iss', 'jti',
  'nbf', 'nonce', 'sub',
]);

/** Firebase's limit for developer claims is 1000 bytes of JSON; we stay under it. */
export const MAX_CLAIMS_BYTES = 1000;

const MAX_NAME_CHARS = 100;
const MAX_PICTURE_CHARS = 300;

/**
 * The developer claims a custom token carries (copied by Firebase into every ID token of the
 * session, so security rules and your APIs can read them):
 * - `email`, `email_verified`: the Google account's email and whether Google verified it;
 * - `name` (at most 100 characters) and `picture` (dropped when over 300 characters);
 * - `hd`: the Google Workspace domain, when the account has one;
 * - `google_sub`: the Google account ID the uid was derived from.
 * Optional items are left out, least useful first, if the JSON would reach 1000 bytes (and so is
 * an email so long that it alone would: no real address is).
 */
export function googleDeveloperClaims(identity: GoogleIdentity): JsonObject {
  const claims: JsonObject = { google_sub: identity.sub };
  if (identity.email !== undefined) {
    claims.email = identity.email;
    claims.email_verified = identity.emailVerified === true;
    // Real addresses are at most 254 characters; one that alone would pass the limit is left out.
    if (claimsBytes(claims) >= MAX_CLAIMS_BYTES) {
      delete claims.email;
      delete claims.email_verified;
    }
  }
  const optional: Array<[string, string | undefined]> = [
    ['hd', identity.hd],
    ['name', identity.name === undefined ? undefined : truncateCodePoints(identity.name, MAX_NAME_CHARS)],
    ['picture', identity.picture && identity.picture.length <= MAX_PICTURE_CHARS ? identity.picture : undefined],
  ];
  for (const [name, value] of optional) {
    if (value === undefined) continue;
    claims[name] = value;
    if (claimsBytes(claims) >= MAX_CLAIMS_BYTES) delete claims[name];
  }
  return claims;
}

/** Cuts a string to at most `max` characters without splitting a surrogate pair. */
export function truncateCodePoints(value: string, max: number): string {
  if (value.length <= max) return value;
  return Array.from(value).slice(0, max).join('');
}

export function claimsBytes(claims: JsonObject): number {
  return Buffer.byteLength(JSON.stringify(claims), 'utf8');
}

/** Checks developer claims against Firebase's rules; throws on a reserved name or oversize. */
export function checkDeveloperClaims(claims: JsonObject): void {
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.has(name)) throw new InvalidRequestError(`developer claim "${name}" is reserved`);
  }
  if (claimsBytes(claims) >= MAX_CLAIMS_BYTES) {
    throw new InvalidRequestError(`developer claims must be under ${MAX_CLAIMS_BYTES} bytes of JSON`);
  }
}

/**
 * The payload of a Firebase custom token, as Firebase documents it. With a tenant
 * (FIREBASE_TENANT_ID), `tenant_id` at the top level, as firebase-admin's
 * TenantAwareAuth.createCustomToken writes it: the user signs in to that tenant.
 */
export function customTokenPayload(
  clientEmail: string,
  uid: string,
  claims: JsonObject,
  nowSeconds: number,
  tenantId?: string,
): JsonObject {
  if (uid.length === 0 || uid.length > 128) throw new InvalidRequestError('uid must be 1 to 128 characters');
  checkDeveloperClaims(claims);
  const payload: JsonObject = {
    iss: clientEmail,
    sub: clientEmail,
    aud: FIREBASE_AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + CUSTOM_TOKEN_TTL_SECONDS,
    uid,
  };
  if (Object.keys(claims).length > 0) payload.claims = claims;
  if (tenantId !== undefined) payload.tenant_id = tenantId;
  return payload;
}
