import type { AuditLog } from '../audit/audit-trail';
import type { Config } from '../config';
import { CountingFirebaseVerifier } from '../auth/counting-verifier';
import { CountingPushSender } from '../auth/counting-push-sender';
import { CustomTokenGenerator } from '../auth/custom-token-generator';
import { DeviceCodes } from '../auth/device-codes';
import { TokenExchange } from '../auth/exchange';
import type { FirebaseTokenVerifier } from '../auth/firebase-token-verifier';
import type { GoogleIdTokenVerifier } from '../auth/google-id-token-verifier';
import { NonceService } from '../auth/nonces';
import type { PushSender } from '../auth/push-sender';
import { ReplayGuard } from '../auth/replay-guard';
import { RevocationChecker, RevocationCheckingVerifier } from '../auth/revocation';
import { SessionRevoker } from '../auth/session-revoker';
import { SignInPolicy } from '../auth/sign-in-policy';
import type { GoogleApiClient } from '../google/client';
import type { AppDeps } from '../http/app';
import type { KeySetCache } from '../jwt/key-set-cache';
import { KeyFileSigner } from '../keys/key-file-signer';
import { LocalFcm } from '../local/local-fcm';
import { LocalGoogle } from '../local/local-google';
import { LocalAccounts } from '../local/local-accounts';
import { LocalIdentityToolkit } from '../local/local-identity-toolkit';
import { localRoutes } from '../local/local-routes';
import { playgroundRoutes } from '../local/playground-routes';
import { strictRouter } from '../http/routing';
import type { RedisRevocationBus } from '../store/redis-revocation-bus';
import type { VerifiedTokenCache } from '../auth/verified-token-cache';
import type { Metrics } from '../metrics/metrics';
import type { GoogleVault } from '../vault/vault';
import { wireMetrics } from './metrics';
import { createRevocationBus, createStore } from './store';
import { buildGoogleVault } from './vault';
import type { SharedStore } from '../store/store';
import { bridgeGoogleClient, fcmClient, identityToolkit } from './google';
import { type Signing, createSigning } from './signing';
import { createAuditLog } from './audit';
import { type Runtime, cachedFirebaseVerifier, firebaseVerifierSettings, googleVerifier, httpKeySet, keySetCache } from './verifiers';

export type { Runtime };

export interface Dependencies extends AppDeps {
  googleKeys: KeySetCache;
  firebaseKeys: KeySetCache;
  /** Configured mode: the keyring watcher or keyless signer (started and stopped by the server). */
  signing?: Signing;
  googleVerifier: GoogleIdTokenVerifier;
  local?: LocalGoogle;
  /** Local mode: the emulated Identity Toolkit and securetoken calls, on its persisted accounts. */
  localToolkit?: LocalIdentityToolkit;
  /** Every push goes through this: FCM HTTP v1 in configured mode, the recording fake in local mode. */
  push: PushSender;
  /** Local mode: the fake FCM's record (GET /local/fcm/messages). */
  localFcm?: LocalFcm;
  /** Set when CHECK_REVOKED is on. */
  revocation?: RevocationChecker;
  /** Redis with CHECK_REVOKED or ADMIN_API_TOKEN: revocations announced between instances (closed by the server). */
  revocationBus?: RedisRevocationBus;
  /** Configured mode with CHECK_REVOKED or ADMIN_API_TOKEN: the client of the bridge's own Google calls. */
  google?: GoogleApiClient;
  /** GOOGLE_OAUTH_CLIENT_ID set: the refresh-token vault (the server runs its start() before listening). */
  googleVault?: GoogleVault;
  /** The tamper-evident audit trail (AUDIT_LOG); flushed and closed by the server on shutdown. */
  audit: AuditLog;
  /** The cache of verified Firebase ID tokens (inside the revocation check and the counting verifier). */
  verifiedTokenCache: VerifiedTokenCache;
  /** METRICS_ENABLED: the registry (the server serves it on METRICS_PORT when set; else the app mounts /metrics). */
  metricsRegistry?: Metrics;
}

/**
 * Builds everything the app needs from config; no rule is decided here. In configured mode:
 * Google's key sets over HTTP and the signing key from KEYS_DIR (or keyless signing). In local
 * mode: the emulated Google; KEYS_DIR is never read.
 */
export function createDependencies(config: Config, runtime: Runtime): Dependencies {
  const { logger, clock } = runtime;
  const audit = runtime.audit ?? createAuditLog(config.audit, runtime);
  runtime = { ...runtime, audit };
  const settings = firebaseVerifierSettings(config);
  const { hardening } = config;

  let googleKeys: KeySetCache;
  let firebaseKeys: KeySetCache;
  let minter: AppDeps['minter'];
  let signing: Signing | undefined;
  let local: LocalGoogle | undefined;
  let localToolkit: LocalIdentityToolkit | undefined;
  let localFcm: LocalFcm | undefined;
  let push: PushSender;
  if (config.mode === 'local') {
    local = LocalGoogle.open(config.localStateDir, config.projectId, clock);
    const accounts = LocalAccounts.open(config.localStateDir, clock, {
      onSaveError: (err) => logger.error({ err: err.message }, 'local mode could not write its accounts file; retrying with the next change'),
    });
    localToolkit = new LocalIdentityToolkit(local, accounts);
    googleKeys = keySetCache(local.googleKeys, settings, runtime);
    firebaseKeys = keySetCache(local.securetokenKeys, settings, runtime);
    minter = new CustomTokenGenerator(new KeyFileSigner(local.serviceAccount), clock);
    localFcm = new LocalFcm(config.projectId, clock);
    push = localFcm;
  } else {
    if (config.authEmulator !== undefined) {
      // Said once, at start: what this setting turns off.
      logger.warn(
        {
          authEmulator: config.authEmulator.host,
          projectId: config.projectId,
          identityToolkit: config.authEmulator.identityToolkitUrl,
        },
        'FIREBASE_AUTH_EMULATOR_HOST is set: the Auth Emulator\'s unsigned Firebase ID tokens (alg none) are accepted ' +
          'WITHOUT a signature check (every claim is still checked; signed tokens are still signature-checked). ' +
          'For local development only: never set it on a server real users reach.',
      );
    }
    googleKeys = httpKeySet(config.googleCertsUrl, settings, runtime);
    firebaseKeys = httpKeySet(config.firebaseCertsUrl, settings, runtime);
    signing = createSigning(config, runtime);
    minter = signing.minter;
    push = fcmClient(config, signing, runtime);
  }
  // A runtime's own sender (tests, embedders) replaces the one config builds.
  if (runtime.push) push = runtime.push;
  const countedPush = new CountingPushSender(push);
  push = countedPush;
  const pushRelay: AppDeps['pushRelay'] =
    config.mode === 'configured' && config.push.pushApiToken !== undefined ? { token: config.push.pushApiToken, sender: push } : undefined;
  const store: SharedStore = createStore(config, clock, logger);
  const nonces = new NonceService(store, hardening.nonceTtlSeconds);
  const googleIdVerifier = googleVerifier(googleKeys, config, clock);
  const verifiedTokenCache = cachedFirebaseVerifier(firebaseKeys, settings, clock);
  let firebaseVerifier: FirebaseTokenVerifier = verifiedTokenCache;

  // Identity Toolkit (revocation check, admin revoke) needs Google: configured mode only.
  let revocation: RevocationChecker | undefined;
  let admin: AppDeps['admin'];
  let googleClient: GoogleApiClient | undefined;
  let revocationBus: RedisRevocationBus | undefined;
  if (config.mode === 'configured' && signing && (hardening.checkRevoked || hardening.adminApiToken)) {
    googleClient = bridgeGoogleClient(config, signing, runtime);
    const directory = identityToolkit(config, googleClient);
    // Several instances: an admin revoke on one reaches every instance's revocation cache.
    revocationBus = createRevocationBus(config);
    if (hardening.checkRevoked) {
      revocation = new RevocationChecker({
        client: directory,
        clock,
        logger,
        cacheSeconds: hardening.revocationCacheSeconds,
        announcements: revocationBus,
      });
      // After the cache of verified tokens: a revocation check that is on is never bypassed.
      firebaseVerifier = new RevocationCheckingVerifier(firebaseVerifier, revocation);
    }
    if (hardening.adminApiToken) {
      admin = { token: hardening.adminApiToken, revoker: new SessionRevoker(directory, clock, revocation, revocationBus) };
    }
  } else if (hardening.checkRevoked) {
    logger.warn('CHECK_REVOKED is ignored in local mode (there is no Identity Toolkit to ask)');
  }

  // Device sign-in (DEVICE_SIGN_IN): pushed through the FCM client, or local mode's recording fake.
  const deviceCodes = config.device.enabled ? new DeviceCodes({ store, push, minter, clock, settings: config.device }) : undefined;
  // Off (and no database touched) until GOOGLE_OAUTH_CLIENT_ID is set.
  const googleVault = config.mode === 'configured' && config.vault ? buildGoogleVault(config, config.vault, runtime) : undefined;

  const exchange = new TokenExchange({
    googleVerifier: googleIdVerifier,
    minter,
    logger,
    clock,
    policy: new SignInPolicy(hardening.signInPolicy, config.clockSkewSeconds),
    nonces: hardening.requireNonce ? nonces : undefined,
    replay: hardening.replayProtection ? new ReplayGuard(store, clock, config.clockSkewSeconds) : undefined,
    linker: googleVault,
    audit,
  });

  // Outermost: counts what callers were answered, revocation refusals included.
  const countedFirebase = new CountingFirebaseVerifier(firebaseVerifier);
  const keyring = signing?.keyring;
  const metrics = wireMetrics(config, {
    clock,
    exchanges: exchange.outcomes,
    verifications: { google: googleIdVerifier.outcomes, firebase: countedFirebase.outcomes },
    keySets: [
      { set: 'google', stats: () => googleKeys.stats() },
      { set: 'firebase', stats: () => firebaseKeys.stats() },
    ],
    verifiedTokenCache,
    ...(keyring ? { signingKey: () => keyring.keyring().active, keyringReloads: keyring.reloads } : {}),
    googleApis: [googleClient, signing?.googleApi].filter((c): c is GoogleApiClient => c !== undefined),
    store,
    fcmSends: countedPush.outcomes,
    deviceChallenges: deviceCodes?.challenges,
    deviceVerifications: deviceCodes?.verifications,
    vaultRefreshes: googleVault?.refreshes,
    audit,
  });

  return {
    logger,
    googleKeys,
    firebaseKeys,
    minter,
    signing,
    local,
    localToolkit,
    push,
    localFcm,
    pushRelay,
    store,
    nonces,
    exchange,
    deviceCodes,
    admin,
    revocation,
    revocationBus,
    google: googleClient,
    googleVault,
    vault: googleVault,
    audit,
    googleVerifier: googleIdVerifier,
    firebaseVerifier: countedFirebase,
    verifiedTokenCache,
    // Local mode's routes: the emulated Google and Auth Emulator, the fake FCM's record, and the playground page at /.
    extraRoutes:
      local && localToolkit
        ? strictRouter().use(
            localRoutes({ google: local, toolkit: localToolkit, logger, maxBodyBytes: config.maxBodyBytes, fcm: localFcm }),
            playgroundRoutes(),
          )
        : undefined,
    metrics: metrics.app,
    metricsRegistry: metrics.metrics,
  };
}
