import { isIP } from 'node:net';
import { ConfigError } from '../errors';
import { type Env, int, list, str, url } from './parse';
import { secretWeakness } from './secret-strength';

/** Settings of issue #4's hardening: sign-in policy, replay protection, nonces, rate limits, revocation. */

export interface SignInPolicySettings {
  /** GOOGLE_HOSTED_DOMAINS: only accounts whose `hd` is listed may exchange. */
  hostedDomains?: readonly string[];
  /** ALLOWED_EMAILS: exact addresses (lower-cased). */
  allowedEmails?: readonly string[];
  /** ALLOWED_EMAIL_DOMAINS: domains after the @ (lower-cased). */
  allowedEmailDomains?: readonly string[];
  /** REQUIRE_EMAIL_VERIFIED: default true when an email allowlist is set. */
  requireEmailVerified: boolean;
  /** GOOGLE_AZP_ALLOWLIST: the client IDs (azp) allowed to have asked for the token. */
  azpAllowlist?: readonly string[];
  /** MAX_GOOGLE_TOKEN_AGE_SECONDS: a Google ID token older than this (by iat) is refused. */
  maxTokenAgeSeconds: number;
}

export interface HardeningSettings {
  signInPolicy: SignInPolicySettings;
  /** REPLAY_PROTECTION: each Google ID token exchanges once. */
  replayProtection: boolean;
  /** REQUIRE_NONCE: the Google ID token's nonce must be one POST /v1/nonce issued, unused, unexpired. */
  requireNonce: boolean;
  /** NONCE_TTL_SECONDS: lifetime of an issued nonce. */
  nonceTtlSeconds: number;
  /** RATE_LIMIT_EXCHANGE_PER_MINUTE / RATE_LIMIT_NONCE_PER_MINUTE, per client IP; 0 disables. */
  rateLimitExchangePerMinute: number;
  rateLimitNoncePerMinute: number;
  /** TRUST_PROXY: the proxies whose X-Forwarded-For is believed; empty: none. */
  trustProxy: readonly string[];
  /** REDIS_URL: shared state in Redis instead of memory. */
  redisUrl?: string;
  /** CHECK_REVOKED: look users up in Identity Toolkit on protected routes. */
  checkRevoked: boolean;
  /** REVOCATION_CACHE_SECONDS: how long one lookup answers for a user. */
  revocationCacheSeconds: number;
  /** IDENTITY_TOOLKIT_URL: base of the Identity Toolkit API. */
  identityToolkitUrl: string;
  /** ADMIN_API_TOKEN: enables /v1/admin/* for bearers of this secret (at least 32 characters). */
  adminApiToken?: string;
}

export const DEFAULT_IDENTITY_TOOLKIT_URL = 'https://identitytoolkit.googleapis.com';

export function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const value = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function lowerList(env: Env, name: string): string[] | undefined {
  return list(env, name)?.map((item) => item.toLowerCase());
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function trustProxy(env: Env): string[] {
  const items = list(env, 'TRUST_PROXY') ?? [];
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const validCidr = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_KEYWORDS.has(item) && (family === 0 || !validCidr || extra !== undefined)) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${item}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`,
      );
    }
  }
  return items;
}

export function hardeningSettings(env: Env): HardeningSettings {
  const allowedEmails = lowerList(env, 'ALLOWED_EMAILS');
  const allowedEmailDomains = lowerList(env, 'ALLOWED_EMAIL_DOMAINS');
  const emailDecides = allowedEmails !== undefined || allowedEmailDomains !== undefined;
  const adminApiToken = str(env, 'ADMIN_API_TOKEN');
  if (adminApiToken !== undefined && adminApiToken.length < 32) {
    throw new ConfigError('ADMIN_API_TOKEN', 'must be at least 32 characters (e.g. openssl rand -base64 32)');
  }
  if (adminApiToken !== undefined && !/^[A-Za-z0-9\-._~+/]+=*$/.test(adminApiToken)) {
    // A Bearer token can only hold these characters (RFC 6750 b64token): any other could never authenticate.
    throw new ConfigError('ADMIN_API_TOKEN', 'may contain only letters, digits and - . _ ~ + / (and trailing =)');
  }
  const weakness = adminApiToken === undefined ? undefined : secretWeakness(adminApiToken);
  if (weakness !== undefined) {
    throw new ConfigError('ADMIN_API_TOKEN', `${weakness} (generate one with e.g. openssl rand -base64 32)`);
  }
  const redisUrl = str(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  return {
    signInPolicy: {
      hostedDomains: lowerList(env, 'GOOGLE_HOSTED_DOMAINS'),
      allowedEmails,
      allowedEmailDomains,
      requireEmailVerified: bool(env, 'REQUIRE_EMAIL_VERIFIED', emailDecides),
      azpAllowlist: list(env, 'GOOGLE_AZP_ALLOWLIST'),
      maxTokenAgeSeconds: int(env, 'MAX_GOOGLE_TOKEN_AGE_SECONDS', 600, 1, 3600),
    },
    replayProtection: bool(env, 'REPLAY_PROTECTION', true),
    requireNonce: bool(env, 'REQUIRE_NONCE', false),
    nonceTtlSeconds: int(env, 'NONCE_TTL_SECONDS', 300, 10, 3600),
    rateLimitExchangePerMinute: int(env, 'RATE_LIMIT_EXCHANGE_PER_MINUTE', 60, 0, 1_000_000),
    rateLimitNoncePerMinute: int(env, 'RATE_LIMIT_NONCE_PER_MINUTE', 60, 0, 1_000_000),
    trustProxy: trustProxy(env),
    redisUrl,
    checkRevoked: bool(env, 'CHECK_REVOKED', false),
    revocationCacheSeconds: int(env, 'REVOCATION_CACHE_SECONDS', 30, 0, 3600),
    identityToolkitUrl: url(env, 'IDENTITY_TOOLKIT_URL', DEFAULT_IDENTITY_TOOLKIT_URL).replace(/\/+$/, ''),
    adminApiToken,
  };
}
