import { ConfigError } from '../errors';
import { bool } from './hardening';
import { type Env, int, str } from './parse';
import { ConfigProblems } from './problems';
import { secretWeakness } from './secret-strength';

/** Settings of device sign-in with a pushed one-time code (POST /v1/device/challenge, /v1/device/verify). */
export interface DeviceCodeSettings {
  /**
   * DEVICE_SIGN_IN: serve /v1/device/*. Off by default in configured mode (it mints Firebase users for app
   * installs, like Firebase's anonymous sign-in, which is also off until a project turns it on); on in local mode.
   */
  enabled: boolean;
  /** DEVICE_CODE_SECRET: the HMAC key of stored codes; unset: generated once and kept in the shared store. */
  secret?: string;
  /** DEVICE_CODE_TTL_SECONDS: a code's lifetime (and the push's TTL). */
  ttlSeconds: number;
  /** DEVICE_CODE_MAX_ATTEMPTS: wrong codes that burn a challenge. */
  maxAttempts: number;
  /** DEVICE_CODE_NOTIFICATION: the push also carries a notification the system shows. */
  notification: boolean;
  /** DEVICE_CODE_TITLE / DEVICE_CODE_BODY: the notification's text; `{code}` is replaced by the code. */
  title: string;
  body: string;
  /** RATE_LIMIT_DEVICE_PER_MINUTE: challenges per device token; 0 disables. */
  rateLimitPerDevicePerMinute: number;
  /** RATE_LIMIT_DEVICE_IP_PER_MINUTE: challenges and verifies per client IP; 0 disables. */
  rateLimitPerIpPerMinute: number;
}

export const DEVICE_CODE_DEFAULTS = {
  ttlSeconds: 300,
  maxAttempts: 5,
  title: 'Sign-in code',
  body: 'Your sign-in code is {code}',
  rateLimitPerDevicePerMinute: 5,
  rateLimitPerIpPerMinute: 30,
} as const;

/** Longest notification title or body (FCM's whole message is limited to 4 KB). */
const MAX_TEXT_CHARS = 200;

function text(env: Env, name: string, def: string): string {
  const value = str(env, name) ?? def;
  if (value.length > MAX_TEXT_CHARS) throw new ConfigError(name, `must be at most ${MAX_TEXT_CHARS} characters`);
  return value;
}

export function deviceCodeSettings(env: Env, localMode = false): DeviceCodeSettings {
  const problems = new ConfigProblems();
  const read = <T>(parse: () => T, fallback: T): T => problems.read(parse, fallback);
  const d = DEVICE_CODE_DEFAULTS;
  const secret = str(env, 'DEVICE_CODE_SECRET');
  if (secret !== undefined) {
    const weakness = secret.length < 32 ? 'must be at least 32 characters' : secretWeakness(secret);
    if (weakness !== undefined) {
      problems.add(new ConfigError('DEVICE_CODE_SECRET', `${weakness} (generate one with e.g. openssl rand -base64 32)`));
    }
  }
  const settings: DeviceCodeSettings = {
    enabled: read(() => bool(env, 'DEVICE_SIGN_IN', localMode), localMode),
    ...(secret !== undefined ? { secret } : {}),
    ttlSeconds: read(() => int(env, 'DEVICE_CODE_TTL_SECONDS', d.ttlSeconds, 60, 900), d.ttlSeconds),
    maxAttempts: read(() => int(env, 'DEVICE_CODE_MAX_ATTEMPTS', d.maxAttempts, 1, 20), d.maxAttempts),
    notification: read(() => bool(env, 'DEVICE_CODE_NOTIFICATION', false), false),
    title: read(() => text(env, 'DEVICE_CODE_TITLE', d.title), d.title),
    body: read(() => text(env, 'DEVICE_CODE_BODY', d.body), d.body),
    rateLimitPerDevicePerMinute: read(
      () => int(env, 'RATE_LIMIT_DEVICE_PER_MINUTE', d.rateLimitPerDevicePerMinute, 0, 1_000_000),
      d.rateLimitPerDevicePerMinute,
    ),
    rateLimitPerIpPerMinute: read(
      () => int(env, 'RATE_LIMIT_DEVICE_IP_PER_MINUTE', d.rateLimitPerIpPerMinute, 0, 1_000_000),
      d.rateLimitPerIpPerMinute,
    ),
  };
  problems.throwIfAny();
  return settings;
}
