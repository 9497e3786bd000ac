import { ConfigError } from '../errors';
import { bool } from './hardening';
import { type Env, list, str } from './parse';
import { ConfigProblems } from './problems';

/** Settings of forward-auth (`/v1/authz`, for nginx auth_request, Traefik ForwardAuth, Envoy ext_authz, Caddy forward_auth). */
export interface AuthzSettings {
  /** AUTHZ_COOKIE_NAME: the cookie holding a Firebase ID token (browser pages) when there is no Bearer header; unset: none. */
  cookieName?: string;
  /** AUTHZ_REQUIRE_CLAIMS: claims every token must carry with the value `true` (boolean or the string). */
  requireClaims: readonly string[];
  /** AUTHZ_REQUIRE_EMAIL_VERIFIED: the token's `email_verified` must be true. */
  requireEmailVerified: boolean;
}

/** A cookie name (RFC 6265 §4.1.1: an RFC 7230 token), at most 64 characters. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/**
 * A claim name a rule may require: visible ASCII without a comma (the lists' separator), at most 64 characters.
 * Shared by AUTHZ_REQUIRE_CLAIMS and the `claim` query parameter of /v1/authz.
 */
const CLAIM_NAME = /^[\x21-\x2b\x2d-\x7e]{1,64}$/;

export function isClaimName(value: string): boolean {
  return CLAIM_NAME.test(value);
}

export function authzSettings(env: Env): AuthzSettings {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const cookieName = str(env, 'AUTHZ_COOKIE_NAME');
  if (cookieName !== undefined && !COOKIE_NAME.test(cookieName)) {
    problems.add(
      new ConfigError('AUTHZ_COOKIE_NAME', `"${cookieName}" is not a cookie name (letters, digits and !#$%&'*+-.^_\`|~, at most 64)`),
    );
  }
  const requireClaims = read(() => {
    const names = list(env, 'AUTHZ_REQUIRE_CLAIMS') ?? [];
    for (const name of names) {
      if (!isClaimName(name)) {
        throw new ConfigError('AUTHZ_REQUIRE_CLAIMS', `"${name}" is not a claim name (visible ASCII, at most 64 characters)`);
      }
    }
    return names;
  }, []);
  const settings: AuthzSettings = {
    ...(cookieName !== undefined && COOKIE_NAME.test(cookieName) ? { cookieName } : {}),
    requireClaims,
    requireEmailVerified: read(() => bool(env, 'AUTHZ_REQUIRE_EMAIL_VERIFIED', false), false),
  };
  problems.throwIfAny();
  return settings;
}
