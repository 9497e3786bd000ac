import type { SignInPolicySettings } from '../config/hardening';
import { AccessDeniedError, InvalidTokenError } from '../errors';
import { asciiEmail, asciiIdentifier } from '../config/ascii-identifiers';
import type { GoogleIdentity } from './google-id-token-verifier';

/**
 * Who may exchange a (valid) Google ID token. Every configured rule must hold:
 * - MAX_GOOGLE_TOKEN_AGE_SECONDS: the token was issued (iat) recently: it is for signing in now;
 * - GOOGLE_AZP_ALLOWLIST: the client that asked for the token (azp) is one of ours;
 * - GOOGLE_HOSTED_DOMAINS: the account's Workspace domain (hd) is listed;
 * - ALLOWED_EMAILS / ALLOWED_EMAIL_DOMAINS: the email is listed, or its domain is (either list admits);
 *   compared ASCII-only, case-insensitively for A-Z; an email must have exactly one @;
 * - REQUIRE_EMAIL_VERIFIED (default on when an email list decides): Google verified the email.
 * Token-shape failures (age, azp) are 401 invalid_token; an account the policy does not admit is
 * 403 access_denied.
 */
export class SignInPolicy {
  constructor(
    private readonly settings: SignInPolicySettings,
    private readonly skewSeconds: number,
  ) {}

  check(identity: GoogleIdentity, nowSeconds: number): void {
    const { settings } = this;
    if (nowSeconds - identity.iat > settings.maxTokenAgeSeconds + this.skewSeconds) {
      throw new InvalidTokenError(
        `Google ID token is older than ${settings.maxTokenAgeSeconds} s; sign in again`,
        'ERR_TOKEN_TOO_OLD',
      );
    }
    if (settings.azpAllowlist && (identity.azp === undefined || !settings.azpAllowlist.includes(identity.azp))) {
      throw new InvalidTokenError('the client that requested this token (azp) is not allowed', 'ERR_CLAIM_AZP');
    }
    // Domains and emails compare ASCII-only (src/config/ascii-identifiers.ts): a non-ASCII value, or an
    // email without exactly one @, matches nothing.
    const hd = identity.hd === undefined ? undefined : asciiIdentifier(identity.hd);
    if (settings.hostedDomains && (hd === undefined || !settings.hostedDomains.includes(hd))) {
      throw new AccessDeniedError('this Google account is not in an allowed hosted domain', 'ERR_POLICY_HD');
    }
    if (settings.requireEmailVerified && (identity.email === undefined || identity.emailVerified !== true)) {
      throw new AccessDeniedError('this Google account has no verified email', 'ERR_POLICY_EMAIL_UNVERIFIED');
    }
    if (settings.allowedEmails || settings.allowedEmailDomains) {
      const address = identity.email === undefined ? undefined : asciiEmail(identity.email);
      const admitted =
        address !== undefined &&
        ((settings.allowedEmails?.includes(address.email) ?? false) ||
          (settings.allowedEmailDomains?.includes(address.domain) ?? false));
      if (!admitted) throw new AccessDeniedError('this Google account is not allowed to sign in', 'ERR_POLICY_EMAIL');
    }
  }
}
