import type { AuditLog } from '../audit/audit-trail';
import type { PushSender } from '../auth/push-sender';
import type { Logger } from 'pino';
import pino from 'pino';
import { type Clock, systemClock } from '../clock';
import type { Config } from '../config';
import { type FirebaseVerifierOptions, type FirebaseVerifierSettings, verifierSettings } from '../config/verifier';
import { FirebaseIdTokenVerifier } from '../auth/firebase-id-token-verifier';
import type { FirebaseTokenVerifier } from '../auth/firebase-token-verifier';
import { GoogleIdTokenVerifier } from '../auth/google-id-token-verifier';
import { VerifiedTokenCache } from '../auth/verified-token-cache';
import { KeySetCache } from '../jwt/key-set-cache';
import { HttpKeySetSource, type KeySetSource } from '../jwt/key-set-source';
import type { FetchFn } from '../outbound/fetch';

export interface Runtime {
  logger: Logger;
  clock: Clock;
  fetch: FetchFn;
  /** A push sender to use instead of the one config builds (tests, embedders): enables device sign-in. */
  push?: PushSender;
  /** An audit trail to use instead of the one AUDIT_LOG builds (tests, embedders). */
  audit?: AuditLog;
}

/** The key-set settings of a verifier (a subset of FirebaseVerifierSettings). */
type KeySetSettings = Pick<FirebaseVerifierSettings, 'cooldownMs' | 'maxStaleSeconds'>;

export function keySetCache(source: KeySetSource, settings: KeySetSettings, runtime: Pick<Runtime, 'logger' | 'clock'>): KeySetCache {
  return new KeySetCache({
    source,
    logger: runtime.logger,
    clock: runtime.clock,
    cooldownMs: settings.cooldownMs,
    maxStaleMs: settings.maxStaleSeconds * 1000,
  });
}

export function httpKeySet(url: string, settings: KeySetSettings & Pick<FirebaseVerifierSettings, 'fetchTimeoutMs'>, runtime: Runtime): KeySetCache {
  return keySetCache(new HttpKeySetSource(url, { fetch: runtime.fetch, timeoutMs: settings.fetchTimeoutMs }), settings, runtime);
}

/** The server's settings, as the verifier's. */
export function firebaseVerifierSettings(config: Config): FirebaseVerifierSettings {
  return {
    projectId: config.projectId,
    certsUrl: config.firebaseCertsUrl,
    skewSeconds: config.clockSkewSeconds,
    fetchTimeoutMs: config.certsFetchTimeoutMs,
    cooldownMs: config.certsRefetchCooldownMs,
    maxStaleSeconds: config.certsMaxStaleSeconds,
    cacheMaxEntries: config.verifiedTokenCacheMaxEntries,
    ...(config.tenantId === undefined ? {} : { tenantId: config.tenantId }),
    ...(config.mode === 'configured' && config.authEmulator !== undefined ? { acceptUnsignedEmulatorTokens: true } : {}),
  };
}

/** Firebase ID tokens verified against `keys`, behind the bounded cache of verified tokens (0 entries: no cache). */
export function cachedFirebaseVerifier(keys: KeySetCache, settings: FirebaseVerifierSettings, clock: Clock): VerifiedTokenCache {
  const { projectId, skewSeconds, tenantId, acceptUnsignedEmulatorTokens } = settings;
  // Unsigned emulator tokens have no kid, so the cache never keeps them: each is verified (claims only, no key set).
  return new VerifiedTokenCache({
    inner: new FirebaseIdTokenVerifier({ keys, projectId, skewSeconds, clock, tenantId, acceptUnsignedEmulatorTokens }),
    keys,
    clock,
    skewSeconds,
    maxEntries: settings.cacheMaxEntries,
  });
}

export function googleVerifier(keys: KeySetCache, config: Pick<Config, 'googleClientIds' | 'clockSkewSeconds'>, clock: Clock): GoogleIdTokenVerifier {
  return new GoogleIdTokenVerifier({ keys, clientIds: config.googleClientIds, skewSeconds: config.clockSkewSeconds, clock });
}

/**
 * The library's verifier: Google's securetoken certificates and the server's defaults (its bounded
 * cache of verified tokens included), built by the same code as the server's and validated by the
 * same rules, for `requireFirebaseAuth({ verifier: firebaseVerifier({ projectId }) })`. One per process.
 */
export function firebaseVerifier(options: FirebaseVerifierOptions): FirebaseTokenVerifier {
  const settings = verifierSettings(options);
  const runtime: Runtime = { logger: pino({ level: 'warn' }), clock: systemClock, fetch: globalThis.fetch };
  return cachedFirebaseVerifier(httpKeySet(settings.certsUrl, settings, runtime), settings, systemClock);
}
