import type { Logger } from 'pino';
import type { Clock } from './clock';
import type { Config } from './config';
import { FirebaseIdTokenVerifier } from './auth/firebase-id-token-verifier';
import { GoogleIdTokenVerifier } from './auth/google-id-token-verifier';
import { loadSigningKey } from './auth/key-directory';
import { ServiceAccountSigner } from './auth/signer';
import type { AppDeps } from './http/app';
import { KeySetCache } from './jwt/key-set-cache';
import { type FetchFn, HttpKeySetSource, type KeySetSource } from './jwt/key-set-source';
import { LocalGoogle } from './local/local-google';
import { localRoutes } from './local/local-routes';

export interface Runtime {
  logger: Logger;
  clock: Clock;
  fetch: FetchFn;
}

export interface Dependencies extends AppDeps {
  googleKeys: KeySetCache;
  firebaseKeys: KeySetCache;
  signer: ServiceAccountSigner;
  local?: LocalGoogle;
}

function cacheFor(source: KeySetSource, config: Config, runtime: Runtime): KeySetCache {
  return new KeySetCache({
    source,
    logger: runtime.logger,
    clock: runtime.clock,
    cooldownMs: config.certsRefetchCooldownMs,
    maxStaleMs: config.certsMaxStaleSeconds * 1000,
  });
}

/**
 * Builds everything the app needs from config. In configured mode: Google's key sets over HTTP
 * and the signing key from KEYS_DIR. In local mode: the emulated Google; KEYS_DIR is never read.
 */
export function createDependencies(config: Config, runtime: Runtime): Dependencies {
  const { logger, clock } = runtime;
  let googleSource: KeySetSource;
  let firebaseSource: KeySetSource;
  let signer: ServiceAccountSigner;
  let local: LocalGoogle | undefined;
  if (config.mode === 'local') {
    local = LocalGoogle.open(config.localStateDir, config.projectId, clock);
    googleSource = local.googleKeys;
    firebaseSource = local.securetokenKeys;
    signer = new ServiceAccountSigner(local.serviceAccount, clock);
  } else {
    const http = { fetch: runtime.fetch, timeoutMs: config.certsFetchTimeoutMs };
    googleSource = new HttpKeySetSource(config.googleCertsUrl, http);
    firebaseSource = new HttpKeySetSource(config.firebaseCertsUrl, http);
    const key = loadSigningKey(config.keysDir, config.projectId, logger);
    logger.info({ kid: key.privateKeyId, serviceAccount: key.clientEmail, project: key.projectId }, 'signing key loaded');
    signer = new ServiceAccountSigner(key, clock);
  }
  const googleKeys = cacheFor(googleSource, config, runtime);
  const firebaseKeys = cacheFor(firebaseSource, config, runtime);
  const skewSeconds = config.clockSkewSeconds;
  return {
    logger,
    googleKeys,
    firebaseKeys,
    signer,
    local,
    googleVerifier: new GoogleIdTokenVerifier({ keys: googleKeys, clientIds: config.googleClientIds, skewSeconds, clock }),
    firebaseVerifier: new FirebaseIdTokenVerifier({ keys: firebaseKeys, projectId: config.projectId, skewSeconds, clock }),
    extraRoutes: local ? localRoutes(local, logger) : undefined,
  };
}
