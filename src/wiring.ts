import type { Logger } from 'pino';
import type { Clock } from './clock';
import type { Config } from './config';
import { DependencyUnavailableError } from './errors';
import { FirebaseIdTokenVerifier } from './auth/firebase-id-token-verifier';
import { GoogleIdTokenVerifier } from './auth/google-id-token-verifier';
import { type CustomTokenSigner, ServiceAccountSigner } from './auth/signer';
import { VerifiedTokenCache } from './auth/verified-token-cache';
import type { AppDeps } from './http/app';
import { KeySetCache } from './jwt/key-set-cache';
import { type FetchFn, HttpKeySetSource, type KeySetSource } from './jwt/key-set-source';
import { TokenExchange } from './auth/exchange';
import { IdentityToolkitClient } from './auth/identity-toolkit-client';
import { NonceService } from './auth/nonces';
import { ReplayGuard } from './auth/replay-guard';
import { RevocationChecker, RevocationCheckingVerifier } from './auth/revocation';
import { ServiceAccountTokenSource } from './auth/service-account-token-source';
import { SignInPolicy } from './auth/sign-in-policy';
import type { FirebaseTokenVerifier } from './http/require-firebase-auth';
import type { AccessTokenSource } from './keys/adc';
import { MemoryStore } from './store/memory-store';
import { RedisStore } from './store/redis-store';
import type { SharedStore } from './store/store';
import { LocalGoogle } from './local/local-google';
import { localRoutes } from './local/local-routes';
import { type Signing, createSigning } from './keys/signing-setup';

export interface Runtime {
  logger: Logger;
  clock: Clock;
  fetch: FetchFn;
}

export interface Dependencies extends AppDeps {
  googleKeys: KeySetCache;
  firebaseKeys: KeySetCache;
  signer: CustomTokenSigner;
  /** Configured mode: the keyring watcher or keyless signer (started and stopped by the server). */
  signing?: Signing;
  googleVerifier: GoogleIdTokenVerifier;
  local?: LocalGoogle;
  /** Set when CHECK_REVOKED is on. */
  revocation?: RevocationChecker;
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
  let signer: CustomTokenSigner;
  let signing: Signing | undefined;
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
    signing = createSigning(config, runtime);
    signer = signing.signer;
  }
  const googleKeys = cacheFor(googleSource, config, runtime);
  const firebaseKeys = cacheFor(firebaseSource, config, runtime);
  const skewSeconds = config.clockSkewSeconds;
  const { hardening } = config;
  const store: SharedStore = hardening.redisUrl ? new RedisStore(hardening.redisUrl) : new MemoryStore(clock);
  const googleVerifier = new GoogleIdTokenVerifier({ keys: googleKeys, clientIds: config.googleClientIds, skewSeconds, clock });
  const nonces = new NonceService(store, hardening.nonceTtlSeconds);

  // Verified ID tokens are cached (bounded, exp and kid re-checked on every hit); 0 entries disables it.
  let firebaseVerifier: FirebaseTokenVerifier = new VerifiedTokenCache({
    inner: new FirebaseIdTokenVerifier({ keys: firebaseKeys, projectId: config.projectId, skewSeconds, clock, tenantId: config.tenantId }),
    keys: firebaseKeys,
    clock,
    skewSeconds,
    maxEntries: config.verifiedTokenCacheMaxEntries,
  });

  // Identity Toolkit (revocation check, admin revoke) needs Google: configured mode only.
  let revocation: RevocationChecker | undefined;
  let admin: AppDeps['admin'];
  if (config.mode === 'configured' && (hardening.checkRevoked || hardening.adminApiToken)) {
    // Keyless: the signer's ADC tokens (one cache, one refresh). Key files: the signing account's own.
    const tokens: AccessTokenSource =
      signing?.accessTokens ??
      new ServiceAccountTokenSource({
        currentKey: () => (signer instanceof ServiceAccountSigner ? signer.currentKey() : undefined),
        tokenUrl: config.googleApis.tokenUrl,
        fetch: runtime.fetch,
        clock,
        timeoutMs: config.googleApis.timeoutMs,
      });
    const identityToolkit = new IdentityToolkitClient({
      baseUrl: hardening.identityToolkitUrl,
      projectId: config.projectId,
      tokens,
      fetch: runtime.fetch,
      clock,
      timeoutMs: config.googleApis.timeoutMs,
      tenantId: config.tenantId,
    });
    if (hardening.checkRevoked) {
      revocation = new RevocationChecker({ client: identityToolkit, clock, logger, cacheSeconds: hardening.revocationCacheSeconds });
      // After the cache of verified tokens: a revocation check that is on is never bypassed.
      firebaseVerifier = new RevocationCheckingVerifier(firebaseVerifier, revocation);
    }
    if (hardening.adminApiToken) {
      const checker = revocation;
      admin = {
        token: hardening.adminApiToken,
        revokeSessions: async (uid: string) => {
          const validSince = Math.floor(clock() / 1000);
          try {
            await identityToolkit.revokeSessions(uid, validSince);
          } catch (err) {
            throw new DependencyUnavailableError(`Identity Toolkit could not revoke the sessions: ${(err as Error).message}`);
          }
          checker?.invalidate(uid);
          return validSince;
        },
      };
    }
  } else if (hardening.checkRevoked) {
    logger.warn('CHECK_REVOKED is ignored in local mode (there is no Identity Toolkit to ask)');
  }

  const exchange = new TokenExchange({
    googleVerifier,
    signer,
    logger,
    clock,
    policy: new SignInPolicy(hardening.signInPolicy, skewSeconds),
    nonces: hardening.requireNonce ? nonces : undefined,
    replay: hardening.replayProtection ? new ReplayGuard(store, clock, skewSeconds) : undefined,
  });

  return {
    logger,
    googleKeys,
    firebaseKeys,
    signer,
    signing,
    local,
    store,
    nonces,
    exchange,
    admin,
    revocation,
    googleVerifier,
    firebaseVerifier,
    extraRoutes: local ? localRoutes(local, logger) : undefined,
  };
}
