import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import type { DeviceCodeSettings } from '../config/device';
import { DependencyUnavailableError, FirebridgeError, InvalidGrantError, RateLimitedError } from '../errors';
import type { SharedStore } from '../store/store';
import type { CustomTokenMinter } from './custom-token-generator';
import { OutcomeCounts } from '../outcomes';
import type { PushMessage, PushSender } from './push-sender';

/**
 * Device sign-in with a pushed one-time code: `challenge` sends a 6-digit code to one FCM device token, `verify`
 * trades the code for a Firebase custom token with `device_verified: true`. What it proves: possession of an
 * install of this app that can receive this project's pushes (nothing about a phone number or a person).
 *
 * All state is in the shared store, so any instance verifies what another issued:
 * - `device:ch:<challengeId>`: the challenge (the code only as an HMAC under the shared secret, the device
 *   token's SHA-256, who asked, when it expires);
 * - `device:att:<challengeId>`: verify attempts, counted before any comparison, so concurrent guesses are
 *   bounded too; more than DEVICE_CODE_MAX_ATTEMPTS, or a wrong code at the last, burns the challenge;
 * - `device:tok:<sha256(fcmToken)>`: the device's live challenge (a new one replaces it and deletes the old);
 * - `device:secret`: the generated HMAC key, when DEVICE_CODE_SECRET is not set.
 */

/** The data message's `type`. */
export const DEVICE_CODE_MESSAGE_TYPE = 'firebridge.device_code';
/** The claim every device-verified custom token carries. */
export const DEVICE_VERIFIED_CLAIM = 'device_verified';
/** Prefix of the uid of a device verified without a Firebase user: `device:<base64url(SHA-256(fcmToken))>`. */
export const DEVICE_UID_PREFIX = 'device:';

/** FCM registration tokens: letters, digits and - _ : (and . + / = for older forms); generous length. */
export const FCM_TOKEN_PATTERN = /^[A-Za-z0-9_:.+/=-]{1,4096}$/;
/** A challenge ID: 16 random bytes, base64url. */
export const CHALLENGE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** A code: six decimal digits. */
export const CODE_PATTERN = /^[0-9]{6}$/;

/** The one description of every refused verify: it says nothing about why. */
export const INVALID_CODE_DESCRIPTION = 'the code is wrong, expired or already used; request a new one';

/** The generated secret's key and its lifetime in the store (renewed on every use). */
const SECRET_KEY = 'device:secret';
const SECRET_TTL_MS = 86_400_000;
const RATE_WINDOW_MS = 60_000;

/** What a challenge record holds (short names: it is stored once per challenge). */
interface ChallengeRecord {
  /** HMAC-SHA256(secret, challengeId "\n" code), base64url. */
  c: string;
  /** base64url(SHA-256(fcmToken)). */
  d: string;
  /** The uid of the Firebase user who asked, or null without one. */
  u: string | null;
  /** Expiry, ms since the epoch. */
  x: number;
}

export interface DeviceChallenge {
  challengeId: string;
  expiresIn: number;
}

export interface DeviceVerification {
  customToken: string;
  uid: string;
  expiresIn: number;
}

export interface DeviceCodesOptions {
  store: SharedStore;
  push: PushSender;
  minter: CustomTokenMinter;
  clock: Clock;
  settings: DeviceCodeSettings;
}

/** base64url(SHA-256(fcmToken)): names the device in keys and in its uid; the token itself is never stored. */
export function deviceHash(fcmToken: string): string {
  return createHash('sha256').update(fcmToken, 'utf8').digest('base64url');
}

/** The uid of a device verified without a Firebase user: one per app install. */
export function deviceUid(fcmToken: string): string {
  return DEVICE_UID_PREFIX + deviceHash(fcmToken);
}

/** A code uniform over 000000-999999, from the CSPRNG. */
export function generateCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

/** `{code}` replaced, every occurrence. */
function withCode(template: string, code: string): string {
  return template.split('{code}').join(code);
}

/**
 * The FCM HTTP v1 message of a code: a data message to that device only, Android high priority with a TTL of the
 * code's lifetime; for Apple devices a background push (priority 5) or, with the notification on, an alert
 * (priority 10), expiring with the code.
 */
export function deviceCodeMessage(
  fcmToken: string,
  code: string,
  challengeId: string,
  settings: Pick<DeviceCodeSettings, 'ttlSeconds' | 'notification' | 'title' | 'body'>,
  nowMs: number,
): PushMessage {
  const expiration = String(Math.floor(nowMs / 1000) + settings.ttlSeconds);
  const message: PushMessage = {
    token: fcmToken,
    data: { type: DEVICE_CODE_MESSAGE_TYPE, code, challengeId },
    android: { priority: 'high', ttl: `${settings.ttlSeconds}s` },
  };
  if (settings.notification) {
    message.notification = { title: withCode(settings.title, code), body: withCode(settings.body, code) };
    message.apns = {
      headers: { 'apns-priority': '10', 'apns-push-type': 'alert', 'apns-expiration': expiration },
      payload: { aps: { sound: 'default' } },
    };
  } else {
    message.apns = {
      headers: { 'apns-priority': '5', 'apns-push-type': 'background', 'apns-expiration': expiration },
      payload: { aps: { 'content-available': 1 } },
    };
  }
  return message;
}

/** A store failure is a 503 (errors of our own, like the memory store's 503, pass as they are). */
/** The operation's result, its outcome counted. */
async function counted<T>(counts: OutcomeCounts, operation: Promise<T>): Promise<T> {
  try {
    const result = await operation;
    counts.succeeded();
    return result;
  } catch (err) {
    counts.failed(err);
    throw err;
  }
}

async function stored<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    if (err instanceof FirebridgeError) throw err;
    throw new DependencyUnavailableError(`device challenge store unavailable: ${(err as Error).message}`);
  }
}

function parseRecord(raw: string): ChallengeRecord | undefined {
  try {
    const value = JSON.parse(raw) as Partial<ChallengeRecord>;
    if (typeof value.c !== 'string' || typeof value.d !== 'string' || typeof value.x !== 'number') return undefined;
    if (value.u !== null && typeof value.u !== 'string') return undefined;
    return value as ChallengeRecord;
  } catch {
    return undefined;
  }
}

export class DeviceCodes {
  private readonly ttlMs: number;
  /** Challenges by outcome and error code (firebridge_device_challenges_total). */
  readonly challenges = new OutcomeCounts();
  /** Code verifications by outcome and error code (firebridge_device_verifications_total). */
  readonly verifications = new OutcomeCounts();

  constructor(private readonly options: DeviceCodesOptions) {
    this.ttlMs = options.settings.ttlSeconds * 1000;
  }

  /** The HMAC key every instance shares: DEVICE_CODE_SECRET, else the one first stored (generated once). */
  private async secret(): Promise<Buffer> {
    const configured = this.options.settings.secret;
    if (configured !== undefined) return Buffer.from(configured, 'utf8');
    const candidate = randomBytes(32).toString('base64url');
    const value = await stored(this.options.store.getOrPutValue(SECRET_KEY, candidate, SECRET_TTL_MS));
    return Buffer.from(value, 'base64url');
  }

  /**
   * Deletes a challenge, then its attempt count: in that order, so a failure between the two can never
   * leave the challenge alive with its count reset.
   */
  private async burnChallenge(challengeId: string): Promise<void> {
    await stored(this.options.store.take(`device:ch:${challengeId}`));
    await stored(this.options.store.take(`device:att:${challengeId}`));
  }

  private static mac(secret: Buffer, challengeId: string, code: string): Buffer {
    return createHmac('sha256', secret).update(`${challengeId}\n${code}`, 'utf8').digest();
  }

  /**
   * Sends a new code to the device and returns the challenge's ID. Replaces the device's live challenge. A push
   * failure (PushFailedError, with FCM's reason) leaves no challenge behind.
   */
  async challenge(fcmToken: string, requesterUid?: string): Promise<DeviceChallenge> {
    return counted(this.challenges, this.sendChallenge(fcmToken, requesterUid));
  }

  private async sendChallenge(fcmToken: string, requesterUid?: string): Promise<DeviceChallenge> {
    const { store, push, clock, settings } = this.options;
    const device = deviceHash(fcmToken);
    if (settings.rateLimitPerDevicePerMinute > 0) {
      const { count, resetMs } = await stored(store.hit(`rl:device-token:${device}`, RATE_WINDOW_MS));
      if (count > settings.rateLimitPerDevicePerMinute) {
        const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
        throw new RateLimitedError(`too many codes for this device; retry in ${retryAfter} s`, retryAfter);
      }
    }
    const code = generateCode();
    const challengeId = randomBytes(16).toString('base64url');
    const now = clock();
    const record: ChallengeRecord = {
      c: DeviceCodes.mac(await this.secret(), challengeId, code).toString('base64url'),
      d: device,
      u: requesterUid ?? null,
      x: now + this.ttlMs,
    };
    const key = `device:ch:${challengeId}`;
    await stored(store.setValue(key, JSON.stringify(record), this.ttlMs));
    try {
      await push.send(deviceCodeMessage(fcmToken, code, challengeId, settings, now));
    } catch (err) {
      // Nothing replaced: the device's live challenge (if any) stays usable, and this one leaves nothing behind.
      await store.take(key).catch(() => undefined);
      throw err;
    }
    // Only a code that was sent replaces the device's live challenge; the one it replaced is gone.
    const previous = await stored(store.setValue(`device:tok:${device}`, challengeId, this.ttlMs));
    if (previous !== undefined && previous !== challengeId) await this.burnChallenge(previous);
    return { challengeId, expiresIn: settings.ttlSeconds };
  }

  /**
   * Trades a challenge's code for a custom token (`device_verified: true`): for the Firebase user who asked for the
   * challenge, or, for a challenge asked without one, for the device's own uid. Every refusal is the same
   * InvalidGrantError. A success consumes the challenge.
   */
  async verify(challengeId: string, code: string, requesterUid?: string): Promise<DeviceVerification> {
    return counted(this.verifications, this.verifyCode(challengeId, code, requesterUid));
  }

  private async verifyCode(challengeId: string, code: string, requesterUid?: string): Promise<DeviceVerification> {
    const { store, minter, clock, settings } = this.options;
    const key = `device:ch:${challengeId}`;
    const attemptsKey = `device:att:${challengeId}`;
    const refused = () => new InvalidGrantError(INVALID_CODE_DESCRIPTION);
    const raw = await stored(store.getValue(key));
    const record = raw === undefined ? undefined : parseRecord(raw);
    if (record === undefined) throw refused();
    const burn = () => this.burnChallenge(challengeId);
    if (record.x <= clock()) {
      await burn();
      throw refused();
    }
    // Counted before any comparison: of any number of concurrent guesses, at most maxAttempts are compared.
    const attempt = await stored(store.increment(attemptsKey, this.ttlMs));
    if (attempt > settings.maxAttempts) {
      await burn();
      throw refused();
    }
    // Still the device's live challenge (a newer one replaces it even if deleting this one failed).
    const live = await stored(store.getValue(`device:tok:${record.d}`));
    const expected = Buffer.from(record.c, 'base64url');
    const actual = DeviceCodes.mac(await this.secret(), challengeId, code);
    const codeMatches = expected.length === actual.length && timingSafeEqual(expected, actual);
    const sameRequester = record.u === (requesterUid ?? null);
    if (!codeMatches || !sameRequester || live !== challengeId) {
      if (attempt >= settings.maxAttempts) await burn();
      throw refused();
    }
    const uid = requesterUid ?? DEVICE_UID_PREFIX + record.d;
    // Minted before the challenge is consumed, so a signing outage leaves the code usable; of concurrent
    // successes, the one whose take wins answers.
    const minted = await minter.mint(uid, { [DEVICE_VERIFIED_CLAIM]: true });
    if (!(await stored(store.take(key)))) throw refused();
    await store.take(attemptsKey).catch(() => undefined);
    return { customToken: minted.customToken, uid, expiresIn: minted.expiresIn };
  }
}
