import type { ConfiguredConfig } from '../config';
import { CustomTokenGenerator, type CustomTokenMinter } from '../auth/custom-token-generator';
import type { AccessTokenSource } from '../google/access-token';
import { GoogleApiClient } from '../google/client';
import { ApplicationDefaultCredentials } from '../google/credentials';
import { EMULATOR_SIGNER_ACCOUNT, EmulatedSigner } from '../google/emulated-signer';
import { IamSigner } from '../google/iam-signer';
import { warnOnWideModes } from '../keys/key-file-modes';
import { KeyFileSigner } from '../keys/key-file-signer';
import { hasKeyFiles, loadKeyring } from '../keys/keyring';
import { KeyringWatcher } from '../keys/keyring-watcher';
import type { Runtime } from './verifiers';

/** How a configured server signs custom tokens, and what has to run while it serves. */
export interface Signing {
  /** 'emulator': FIREBASE_AUTH_EMULATOR_HOST is set; custom tokens are unsigned, as firebase-admin's EmulatedSigner makes them. */
  mode: 'key-file' | 'keyless' | 'emulator';
  minter: CustomTokenMinter;
  /** Key-file mode: follows KEYS_DIR (start/stop by the server; reload on SIGHUP). */
  keyring?: KeyringWatcher;
  /** Key-file mode: the signing key as it is now (other Google calls authenticate as its account). */
  keyFile?: KeyFileSigner;
  /** Keyless mode: the ADC access tokens signBlob uses, for other Google calls to share. */
  accessTokens?: AccessTokenSource;
  /** Keyless mode: signBlob's Google API client (its calls and circuit in the metrics). */
  googleApi?: GoogleApiClient;
  /** Starts what runs in the background (watcher, keyless warm-up). */
  start(): Promise<void>;
  stop(): void;
}

/**
 * Key-file mode when KEYS_DIR holds a key file (or SERVICE_ACCOUNT_EMAIL is unset: then an empty
 * KEYS_DIR is the familiar start-up error). Keyless mode when KEYS_DIR holds no key file and
 * SERVICE_ACCOUNT_EMAIL names the account to sign as through IAM Credentials signBlob.
 */
export function createSigning(config: ConfiguredConfig, runtime: Runtime): Signing {
  const { logger, clock } = runtime;
  if (config.authEmulator !== undefined) {
    // What firebase-admin does with the emulator: no key, no credentials, KEYS_DIR never read.
    logger.info(
      { mode: 'emulator', serviceAccount: EMULATOR_SIGNER_ACCOUNT, project: config.projectId },
      'FIREBASE_AUTH_EMULATOR_HOST is set: custom tokens are unsigned (alg none), for the Auth Emulator only; KEYS_DIR and SERVICE_ACCOUNT_EMAIL are not used',
    );
    return {
      mode: 'emulator',
      minter: new CustomTokenGenerator(new EmulatedSigner(), clock, config.tenantId),
      start: async () => undefined,
      stop: () => undefined,
    };
  }
  if (config.serviceAccountEmail !== undefined && !hasKeyFiles(config.keysDir)) {
    const tokens = new ApplicationDefaultCredentials({ config: config.googleApis, fetch: runtime.fetch, clock });
    const googleApi = new GoogleApiClient({ tokens, fetch: runtime.fetch, clock, timeoutMs: config.googleApis.timeoutMs });
    const signer = new IamSigner({
      serviceAccountEmail: config.serviceAccountEmail,
      baseUrl: config.googleApis.iamCredentialsUrl,
      client: googleApi,
      warmUp: () => tokens.getAccessToken(),
      clock,
      logger,
    });
    runtime.audit?.record({ event: 'key.load', mode: 'keyless', serviceAccount: config.serviceAccountEmail });
    logger.info(
      { mode: 'keyless', serviceAccount: config.serviceAccountEmail, project: config.projectId },
      'KEYS_DIR holds no key file: keyless signing with IAM Credentials signBlob (Application Default Credentials)',
    );
    return {
      mode: 'keyless',
      minter: new CustomTokenGenerator(signer, clock, config.tenantId),
      accessTokens: tokens,
      googleApi,
      start: async () => {
        try {
          logger.info({ credentials: tokens.describe() }, 'Application Default Credentials found');
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'Application Default Credentials unusable');
          return;
        }
        await signer.warm();
      },
      stop: () => undefined,
    };
  }
  // Synchronous, at start-up only (nothing is served yet): the same regular-file and 64 KiB checks
  // apply, every file opened with O_NONBLOCK and fstat'ed before it is read (readKeyFileSync), so a
  // FIFO named *.json cannot hang the start. The watcher's later polls and reloads are asynchronous.
  const keyring = loadKeyring(config.keysDir, config.projectId);
  warnOnWideModes(keyring, logger);
  const key = keyring.active.key;
  logger.info(
    { kid: key.privateKeyId, serviceAccount: key.clientEmail, project: key.projectId, kids: keyring.entries.map((e) => e.kid) },
    'signing key loaded',
  );
  runtime.audit?.record({
    event: 'key.load',
    mode: 'key-file',
    kid: key.privateKeyId,
    serviceAccount: key.clientEmail,
    kids: keyring.entries.map((e) => e.kid),
  });
  const signer = new KeyFileSigner(key);
  const watcher = new KeyringWatcher({
    dir: config.keysDir,
    projectId: config.projectId,
    signer,
    logger,
    initial: keyring,
    pollIntervalMs: config.keysPollIntervalMs,
    audit: runtime.audit,
  });
  return {
    mode: 'key-file',
    minter: new CustomTokenGenerator(signer, clock, config.tenantId),
    keyring: watcher,
    keyFile: signer,
    start: async () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
