import { isIP } from 'node:net';
import { asciiEmail, asciiLower, firstNonAscii, isAsciiDomainName } from './ascii-identifiers';
import { ConfigError } from '../errors';
import { type Env, int, list, oneOf, str, url } from './parse';
import { ConfigProblems } from './problems';
import { bearerSecretProblem } from './secret-strength';

/** Settings of issue #4's hardening: sign-in policy, replay protection, nonces, rate limits, revocation. */

export interface SignInPolicySettings {
  /** GOOGLE_HOSTED_DOMAINS: only accounts whose `hd` is listed may exchange (ASCII domain names, lower-cased A-Z). */
  hostedDomains?: readonly string[];
  /** ALLOWED_EMAILS: exact addresses (ASCII, exactly one @, lower-cased A-Z). */
  allowedEmails?: readonly string[];
  /** ALLOWED_EMAIL_DOMAINS: domains after the @ (ASCII domain names, lower-cased A-Z). */
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
  /** REDIS_KEY_PREFIX: every Redis key starts with it, so two deployments can share one Redis. */
  redisKeyPrefix: string;
  /** REDIS_SENTINELS (host:port,...) with REDIS_SENTINEL_NAME: Redis through Sentinel instead of REDIS_URL's host. */
  redisSentinels?: ReadonlyArray<{ host: string; port: number }>;
  redisSentinelName?: string;
  /** RATE_LIMIT_ON_STORE_ERROR: when the store fails, rate-limited requests go through (open) or get 503 (closed). */
  rateLimitOnStoreError: 'open' | 'closed';
  /** MEMORY_STORE_MAX_ENTRIES: most keys the memory store holds (without REDIS_URL). */
  memoryStoreMaxEntries: number;
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

/**
 * GOOGLE_HOSTED_DOMAINS, ALLOWED_EMAIL_DOMAINS: ASCII domain names, lower-cased (A-Z only). The policy
 * compares ASCII-only (src/config/ascii-identifiers.ts), so a non-ASCII entry could only ever mislead.
 */
function domainList(env: Env, name: string): string[] | undefined {
  return list(env, name)?.map((item) => {
    const nonAscii = firstNonAscii(item);
    if (nonAscii !== undefined) {
      throw new ConfigError(
        name,
        `"${item}" has a non-ASCII character (${nonAscii}); domains are compared as ASCII: write an internationalized domain in its xn-- form`,
      );
    }
    const domain = asciiLower(item);
    if (!isAsciiDomainName(domain)) throw new ConfigError(name, `"${item}" is not a domain name (letters, digits, hyphens, dots)`);
    return domain;
  });
}

/** ALLOWED_EMAILS: ASCII addresses with exactly one @ and a domain name after it, lower-cased (A-Z only). */
function emailList(env: Env, name: string): string[] | undefined {
  return list(env, name)?.map((item) => {
    const nonAscii = firstNonAscii(item);
    if (nonAscii !== undefined) {
      throw new ConfigError(name, `"${item}" has a non-ASCII character (${nonAscii}); emails are compared as ASCII`);
    }
    const address = asciiEmail(item);
    if (address === undefined) throw new ConfigError(name, `"${item}" must be an email address with exactly one @`);
    if (!isAsciiDomainName(address.domain)) {
      throw new ConfigError(name, `"${item}": "${address.domain}" is not a domain name (letters, digits, hyphens, dots)`);
    }
    return address.email;
  });
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

export const DEFAULT_REDIS_KEY_PREFIX = 'firebridge:';

/** REDIS_KEY_PREFIX: printable ASCII without spaces (it is part of every key and of the pub/sub channel). */
function redisKeyPrefix(env: Env): string {
  const raw = str(env, 'REDIS_KEY_PREFIX');
  if (raw === undefined) return DEFAULT_REDIS_KEY_PREFIX;
  if (!/^[\x21-\x7e]{1,64}$/.test(raw)) {
    throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1 to 64 printable ASCII characters without spaces');
  }
  return raw;
}

/** REDIS_SENTINELS: host:port entries ([v6]:port for IPv6). */
function redisSentinels(env: Env): Array<{ host: string; port: number }> | undefined {
  return list(env, 'REDIS_SENTINELS')?.map((item) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (!match || host === undefined || (match[1] !== undefined && isIP(host) !== 6)) {
      throw new ConfigError('REDIS_SENTINELS', `"${item}" must be host:port (an IPv6 address in brackets: [::1]:26379)`);
    }
    if (port < 1 || port > 65535) throw new ConfigError('REDIS_SENTINELS', `"${item}": the port must be between 1 and 65535`);
    return { host, port };
  });
}

export function hardeningSettings(env: Env): HardeningSettings {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const allowedEmails = read(() => emailList(env, 'ALLOWED_EMAILS'), undefined);
  const allowedEmailDomains = read(() => domainList(env, 'ALLOWED_EMAIL_DOMAINS'), undefined);
  const emailDecides = allowedEmails !== undefined || allowedEmailDomains !== undefined;
  const adminApiToken = str(env, 'ADMIN_API_TOKEN');
  const adminProblem = adminApiToken === undefined ? undefined : bearerSecretProblem('ADMIN_API_TOKEN', adminApiToken);
  if (adminProblem) problems.add(adminProblem);
  const redisUrl = str(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.add(new ConfigError('REDIS_URL', 'must start with redis:// or rediss://'));
  }
  const redisSentinelList = read(() => redisSentinels(env), undefined);
  const redisSentinelName = str(env, 'REDIS_SENTINEL_NAME');
  if (redisSentinelList !== undefined && redisSentinelName === undefined) {
    problems.add(new ConfigError('REDIS_SENTINEL_NAME', 'must be set with REDIS_SENTINELS (the master group name, e.g. mymaster)'));
  }
  if (redisSentinelName !== undefined && redisSentinelList === undefined && str(env, 'REDIS_SENTINELS') === undefined) {
    problems.add(new ConfigError('REDIS_SENTINELS', 'must be set with REDIS_SENTINEL_NAME (host:port of each sentinel)'));
  }
  if (redisSentinelName !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(redisSentinelName)) {
    problems.add(new ConfigError('REDIS_SENTINEL_NAME', 'may contain only letters, digits and . _ - (at most 64)'));
  }
  const settings: HardeningSettings = {
    signInPolicy: {
      hostedDomains: read(() => domainList(env, 'GOOGLE_HOSTED_DOMAINS'), undefined),
      allowedEmails,
      allowedEmailDomains,
      requireEmailVerified: read(() => bool(env, 'REQUIRE_EMAIL_VERIFIED', emailDecides), emailDecides),
      azpAllowlist: read(() => list(env, 'GOOGLE_AZP_ALLOWLIST'), undefined),
      maxTokenAgeSeconds: read(() => int(env, 'MAX_GOOGLE_TOKEN_AGE_SECONDS', 600, 1, 3600), 600),
    },
    replayProtection: read(() => bool(env, 'REPLAY_PROTECTION', true), true),
    requireNonce: read(() => bool(env, 'REQUIRE_NONCE', false), false),
    nonceTtlSeconds: read(() => int(env, 'NONCE_TTL_SECONDS', 300, 10, 3600), 300),
    rateLimitExchangePerMinute: read(() => int(env, 'RATE_LIMIT_EXCHANGE_PER_MINUTE', 60, 0, 1_000_000), 60),
    rateLimitNoncePerMinute: read(() => int(env, 'RATE_LIMIT_NONCE_PER_MINUTE', 60, 0, 1_000_000), 60),
    trustProxy: read(() => trustProxy(env), []),
    redisUrl,
    redisKeyPrefix: read(() => redisKeyPrefix(env), DEFAULT_REDIS_KEY_PREFIX),
    redisSentinels: redisSentinelList,
    redisSentinelName,
    rateLimitOnStoreError: read(() => oneOf(env, 'RATE_LIMIT_ON_STORE_ERROR', 'open', ['open', 'closed'] as const), 'open'),
    memoryStoreMaxEntries: read(() => int(env, 'MEMORY_STORE_MAX_ENTRIES', 100_000, 100, 10_000_000), 100_000),
    checkRevoked: read(() => bool(env, 'CHECK_REVOKED', false), false),
    revocationCacheSeconds: read(() => int(env, 'REVOCATION_CACHE_SECONDS', 30, 0, 3600), 30),
    identityToolkitUrl: read(
      () => url(env, 'IDENTITY_TOOLKIT_URL', DEFAULT_IDENTITY_TOOLKIT_URL).replace(/\/+$/, ''),
      DEFAULT_IDENTITY_TOOLKIT_URL,
    ),
    adminApiToken,
  };
  problems.throwIfAny();
  return settings;
}
