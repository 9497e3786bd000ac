/** Library entry: use firebridge's verifier and middleware in your own express app. */
export { loadConfig, readEnvironment, type Config } from './config';
export { createApp, type AppDeps } from './http/app';
export { requireFirebaseAuth, type FirebaseTokenVerifier, type RequireFirebaseAuthOptions } from './http/require-firebase-auth';
export { FirebaseBearerStrategy } from './http/passport-strategy';
export { FirebaseIdTokenVerifier, type FirebaseUser } from './auth/firebase-id-token-verifier';
export { GoogleIdTokenVerifier, type GoogleIdentity } from './auth/google-id-token-verifier';
export { uidForGoogleSub } from './auth/uid';
export { KeySetCache } from './jwt/key-set-cache';
export { VerifiedTokenCache } from './auth/verified-token-cache';
export { HttpKeySetSource, StaticKeySetSource } from './jwt/key-set-source';
export { startServer } from './server';
export * from './errors';

import { systemClock } from './clock';
import { ConfigError, DEFAULT_FIREBASE_CERTS_URL, MAX_CLOCK_SKEW_SECONDS, isValidProjectId } from './config';
import { FirebaseIdTokenVerifier } from './auth/firebase-id-token-verifier';
import { VerifiedTokenCache } from './auth/verified-token-cache';
import type { FirebaseTokenVerifier } from './http/require-firebase-auth';
import { KeySetCache } from './jwt/key-set-cache';
import { HttpKeySetSource } from './jwt/key-set-source';
import pino from 'pino';

/**
 * A Firebase ID token verifier with Google's securetoken certificates and the defaults of the
 * server (including its bounded cache of verified tokens), for
 * `requireFirebaseAuth({ verifier: firebaseVerifier({ projectId }) })`. Create one per process.
 */
export function firebaseVerifier(options: {
  projectId: string;
  certsUrl?: string;
  skewSeconds?: number;
  fetchTimeoutMs?: number;
  cooldownMs?: number;
  /** Verified tokens kept in memory (about 3.5 KB each); 0 disables the cache. */
  cacheMaxEntries?: number;
}): FirebaseTokenVerifier {
  // The same bounds the server's settings have: a wide leeway would accept expired tokens.
  if (!isValidProjectId(options.projectId)) throw new ConfigError('projectId', `"${options.projectId}" is not a valid project ID`);
  const skew = options.skewSeconds ?? 60;
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    throw new ConfigError('skewSeconds', `must be a whole number from 0 to ${MAX_CLOCK_SKEW_SECONDS}`);
  }
  const logger = pino({ level: 'warn' });
  const keys = new KeySetCache({
    source: new HttpKeySetSource(options.certsUrl ?? DEFAULT_FIREBASE_CERTS_URL, {
      fetch: globalThis.fetch,
      timeoutMs: options.fetchTimeoutMs ?? 5000,
    }),
    logger,
    clock: systemClock,
    cooldownMs: options.cooldownMs ?? 10_000,
    maxStaleMs: 6 * 3_600_000,
  });
  const skewSeconds = skew;
  return new VerifiedTokenCache({
    inner: new FirebaseIdTokenVerifier({ keys, projectId: options.projectId, skewSeconds, clock: systemClock }),
    keys,
    clock: systemClock,
    skewSeconds,
    maxEntries: options.cacheMaxEntries ?? 10_000,
  });
}
