import { InvalidTokenError, type TokenErrorCode } from '../errors';
import type { JsonObject } from './decode';

/**
 * Longest lifetime (`exp - iat`) of a token the verifiers accept, before the leeway: Google's ID
 * tokens and Firebase's live one hour. (google-auth-library allows a day, too loose for a bridge
 * whose replay marks and caches live as long as the tokens they hold.)
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 3600;

/** A NumericDate claim (seconds since the epoch), required. */
export function numericDate(payload: JsonObject, name: string): number {
  const value = payload[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidTokenError(`"${name}" claim must be a number of seconds since the epoch`, 'ERR_CLAIM_INVALID');
  }
  return value;
}

/**
 * exp must be in the future, iat (and any other issued-at style claim) not in the future, and the
 * lifetime `exp - iat` at most MAX_TOKEN_LIFETIME_SECONDS; leeway applies. So every accepted token
 * has `exp <= now + MAX_TOKEN_LIFETIME_SECONDS + 2 * skewSeconds`.
 */
export function checkTimes(
  payload: JsonObject,
  nowSeconds: number,
  skewSeconds: number,
  notInFuture: readonly string[],
): { iat: number; exp: number } {
  const exp = numericDate(payload, 'exp');
  const iat = numericDate(payload, 'iat');
  if (exp + skewSeconds <= nowSeconds) throw new InvalidTokenError('token has expired', 'ERR_TOKEN_EXPIRED');
  for (const name of notInFuture) {
    if (numericDate(payload, name) > nowSeconds + skewSeconds) {
      throw new InvalidTokenError(`"${name}" claim is in the future`, 'ERR_CLAIM_IN_FUTURE');
    }
  }
  if (payload.nbf !== undefined && numericDate(payload, 'nbf') > nowSeconds + skewSeconds) {
    throw new InvalidTokenError('token is not valid yet (nbf)', 'ERR_CLAIM_IN_FUTURE');
  }
  if (exp <= iat) throw new InvalidTokenError('"exp" is not after "iat"', 'ERR_CLAIM_INVALID');
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS + skewSeconds) {
    throw new InvalidTokenError('token lifetime ("exp" - "iat") is over one hour', 'ERR_CLAIM_INVALID');
  }
  return { iat, exp };
}

/** A claim that must be a string equal to one of `allowed`. */
export function checkStringClaim(payload: JsonObject, name: string, allowed: readonly string[], code: TokenErrorCode): string {
  const value = payload[name];
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new InvalidTokenError(`"${name}" claim is not an accepted value`, code);
  }
  return value;
}
