import { InvalidTokenError } from '../errors';
import { type DecodedJwt, decodeJwt } from './decode';
import type { KeySetCache } from './key-set-cache';
import { RS256, type Rs256Scheduler, rs256Scheduler } from './rs256';

/** Parses a token and checks its header: RS256 and a kid, whatever the token claims about itself. */
export function decodeRs256(token: unknown): DecodedJwt & { kid: string } {
  const decoded = decodeJwt(token);
  if (decoded.header.alg !== RS256) {
    throw new InvalidTokenError('token must be signed with RS256', 'ERR_JWT_ALG');
  }
  const kid = decoded.header.kid;
  if (typeof kid !== 'string' || kid === '' || kid.length > 256) {
    throw new InvalidTokenError('token header has no usable "kid"', 'ERR_JWT_KID');
  }
  if (decoded.header.crit !== undefined) {
    throw new InvalidTokenError('token header has unsupported "crit" parameters', 'ERR_JWT_MALFORMED');
  }
  return { ...decoded, kid };
}

/**
 * Checks the signature with the publisher's key for the token's kid: on the event loop when it is
 * alone, on libuv's thread pool under concurrency (see Rs256Scheduler).
 */
export async function checkSignature(
  decoded: DecodedJwt & { kid: string },
  keys: KeySetCache,
  scheduler: Pick<Rs256Scheduler, 'verify'> = rs256Scheduler,
): Promise<void> {
  const key = await keys.getKey(decoded.kid);
  if (!(await scheduler.verify(decoded.signingInput, decoded.signature, key))) {
    throw new InvalidTokenError('token signature is invalid', 'ERR_JWS_SIGNATURE');
  }
}
