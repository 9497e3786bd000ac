import { createHash } from 'node:crypto';

/**
 * The Firebase uid for a Google account, derived from the Google `sub` alone:
 * - `google:<sub>` when that fits in 128 characters (always, for real Google accounts:
 *   their sub is a decimal string of about 21 digits);
 * - otherwise `google-sha256:<base64url(sha256(sub))>` (57 characters).
 * The same account always maps to the same uid; two accounts never share one (the two forms
 * have different prefixes, and the second is collision-resistant). Changing this breaks every
 * existing user's uid: it is part of the public contract.
 */
export const UID_PREFIX = 'google:';
export const HASHED_UID_PREFIX = 'google-sha256:';

export function uidForGoogleSub(sub: string): string {
  const direct = UID_PREFIX + sub;
  if (direct.length <= 128) return direct;
  return HASHED_UID_PREFIX + createHash('sha256').update(sub, 'utf8').digest('base64url');
}
