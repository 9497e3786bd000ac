import type { AuthzSettings } from '../config/authz';
import { isClaimName } from '../config/authz';
import { asciiEmail, asciiLower, firstNonAscii, isAsciiDomainName } from '../config/ascii-identifiers';
import { AccessDeniedError, InvalidRequestError } from '../errors';
import type { JsonObject } from '../jwt/decode';

/**
 * Forward-auth's rules (`/v1/authz`): what a verified Firebase ID token must also satisfy before the proxy
 * lets its request through. Rules come from the settings (every request) and from the query of the
 * proxy's subrequest (one protected location); every rule must hold:
 * - each required claim is present and `true` (the boolean, or the string "true"): AUTHZ_REQUIRE_CLAIMS, `?claim=`;
 * - `?email_domain=`: the token's email is ASCII with exactly one @, and the part after it is exactly one of the
 *   named domains (case-insensitive for A-Z; a subdomain is another domain), and the email is verified
 *   (a domain check on an unverified address proves nothing);
 * - AUTHZ_REQUIRE_EMAIL_VERIFIED: `email_verified` is true.
 * A refusal is 403 access_denied.
 */
export interface AuthzRules {
  requireClaims: readonly string[];
  /** Lower-cased ASCII domain names; empty: no domain rule. Several: any of them admits. */
  emailDomains: readonly string[];
  requireEmailVerified: boolean;
}

/** Most rules one subrequest may name (a proxy config names a few; this bounds the work per request). */
export const MAX_QUERY_RULES = 16;

export interface AuthzQuery {
  /** `claim` parameters; each may be a comma-separated list. */
  claim: readonly string[];
  /** `email_domain` parameters; each may be a comma-separated list. */
  emailDomain: readonly string[];
}

function items(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((item) => item.trim());
}

/**
 * The settings' rules with the query's added. A bad rule in the query is the proxy's configuration, not the
 * user's: InvalidRequestError (400), which every proxy turns into a refusal (nginx answers 500), never a pass.
 */
export function authzRules(settings: AuthzSettings, query: AuthzQuery): AuthzRules {
  const claims = items(query.claim);
  const domains = items(query.emailDomain);
  if (claims.length + domains.length > MAX_QUERY_RULES) {
    throw new InvalidRequestError(`at most ${MAX_QUERY_RULES} claim and email_domain rules`);
  }
  for (const claim of claims) {
    if (!isClaimName(claim)) throw new InvalidRequestError('claim must name a claim (visible ASCII, at most 64 characters)');
  }
  const emailDomains = domains.map((domain) => {
    const lower = asciiLower(domain);
    if (firstNonAscii(domain) !== undefined || !isAsciiDomainName(lower)) {
      throw new InvalidRequestError('email_domain must be an ASCII domain name (an internationalized one in its xn-- form)');
    }
    return lower;
  });
  return {
    requireClaims: [...new Set([...settings.requireClaims, ...claims])],
    emailDomains,
    requireEmailVerified: settings.requireEmailVerified,
  };
}

/** A claim value a rule accepts as "true". */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** Throws AccessDeniedError unless every rule holds for the token's claims. */
export function checkAuthz(claims: JsonObject, rules: AuthzRules): void {
  for (const name of rules.requireClaims) {
    if (!Object.hasOwn(claims, name) || !isTrue(claims[name])) {
      throw new AccessDeniedError('the token lacks a required claim', 'ERR_POLICY_CLAIM');
    }
  }
  const verified = claims.email_verified === true;
  if (rules.requireEmailVerified && (typeof claims.email !== 'string' || !verified)) {
    throw new AccessDeniedError('the account has no verified email', 'ERR_POLICY_EMAIL_UNVERIFIED');
  }
  if (rules.emailDomains.length > 0) {
    const address = typeof claims.email === 'string' ? asciiEmail(claims.email) : undefined;
    if (address === undefined || !rules.emailDomains.includes(address.domain)) {
      throw new AccessDeniedError('the account\'s email is not in an allowed domain', 'ERR_POLICY_EMAIL_DOMAIN');
    }
    if (!verified) throw new AccessDeniedError('the account has no verified email', 'ERR_POLICY_EMAIL_UNVERIFIED');
  }
}
