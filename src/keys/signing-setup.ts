import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { ConfiguredConfig } from '../config';
import { warnOnWideModes } from '../auth/key-directory';
import { type CustomTokenSigner, ServiceAccountSigner } from '../auth/signer';
import type { FetchFn } from '../jwt/key-set-source';
import { type AccessTokenSource, ApplicationDefaultCredentials } from './adc';
import { hasKeyFiles, loadKeyring } from './keyring';
import { KeyringWatcher } from './keyring-watcher';
import { SignBlobSigner } from './sign-blob-signer';

/** How a configured server signs custom tokens, and what has to run while it serves. */
export interface Signing {
  mode: 'key-file' | 'keyless';
  signer: CustomTokenSigner;
  /** Key-file mode: follows KEYS_DIR (start/stop by the server; reload on SIGHUP). */
  keyring?: KeyringWatcher;
  /** Keyless mode: the ADC access tokens signBlob uses, for other Google calls to share. */
  accessTokens?: AccessTokenSource;
  /** Starts what runs in the background (watcher, keyless warm-up). */
  start(): Promise<void>;
  stop(): void;
}

/**
 * Key-file mode when KEYS_DIR holds a key file (or SERVICE_ACCOUNT_EMAIL is unset: then an empty
 * KEYS_DIR is the familiar start-up error). Keyless mode when KEYS_DIR holds no key file and
 * SERVICE_ACCOUNT_EMAIL names the account to sign as through IAM Credentials signBlob.
 */
export function createSigning(config: ConfiguredConfig, runtime: { logger: Logger; clock: Clock; fetch: FetchFn }): Signing {
  const { logger, clock } = runtime;
  if (config.serviceAccountEmail !== undefined && !hasKeyFiles(config.keysDir)) {
    const tokens = new ApplicationDefaultCredentials({ config: config.googleApis, fetch: runtime.fetch, clock });
    const signer = new SignBlobSigner({
      serviceAccountEmail: config.serviceAccountEmail,
      baseUrl: config.googleApis.iamCredentialsUrl,
      tokens,
      fetch: runtime.fetch,
      clock,
      timeoutMs: config.googleApis.timeoutMs,
      logger,
      tenantId: config.tenantId,
    });
    logger.info(
      { mode: 'keyless', serviceAccount: config.serviceAccountEmail, project: config.projectId },
      'KEYS_DIR holds no key file: keyless signing with IAM Credentials signBlob (Application Default Credentials)',
    );
    return {
      mode: 'keyless',
      signer,
      accessTokens: tokens,
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
  const signer = new ServiceAccountSigner(key, clock, config.tenantId);
  const watcher = new KeyringWatcher({
    dir: config.keysDir,
    projectId: config.projectId,
    signer,
    logger,
    initial: keyring,
    pollIntervalMs: config.keysPollIntervalMs,
  });
  return {
    mode: 'key-file',
    signer,
    keyring: watcher,
    start: async () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
