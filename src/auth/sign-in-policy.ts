import type { SignInPolicySettings } from '../config/hardening';
import { AccessDeniedError, InvalidTokenError } from '../errors';
import type { GoogleIdentity } from './google-id-token-verifier';

/**
 * Who may exchange a (valid) Google ID token. Every configured rule must hold:
 * - MAX_GOOGLE_TOKEN_AGE_SECONDS: the token was issued (iat) recently: it is for signing in now;
 * - GOOGLE_AZP_ALLOWLIST: the client that asked for the token (azp) is one of ours;
 * - GOOGLE_HOSTED_DOMAINS: the account's Workspace domain (hd) is listed;
 * - ALLOWED_EMAILS / ALLOWED_EMAIL_DOMAINS: the email is listed, or its domain is (either list admits);
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
    if (settings.hostedDomains && (identity.hd === undefined || !settings.hostedDomains.includes(identity.hd.toLowerCase()))) {
      throw new AccessDeniedError('this Google account is not in an allowed hosted domain', 'ERR_POLICY_HD');
    }
    const email = identity.email?.toLowerCase();
    if (settings.requireEmailVerified && (email === undefined || identity.emailVerified !== true)) {
      throw new AccessDeniedError('this Google account has no verified email', 'ERR_POLICY_EMAIL_UNVERIFIED');
    }
    if (settings.allowedEmails || settings.allowedEmailDomains) {
      const domain = email?.slice(email.lastIndexOf('@') + 1);
      const admitted =
        email !== undefined &&
        ((settings.allowedEmails?.includes(email) ?? false) ||
          (domain !== undefined && (settings.allowedEmailDomains?.includes(domain) ?? false)));
      if (!admitted) throw new AccessDeniedError('this Google account is not allowed to sign in', 'ERR_POLICY_EMAIL');
    }
  }
}
