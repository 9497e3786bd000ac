import type { Logger } from 'pino';
import { type Keyring, type KeyringEntry, loadKeyring } from '../keys/keyring';
import type { ServiceAccountKey } from './service-account';

/**
 * Reads the keyring of KEYS_DIR (src/keys/keyring.ts) and returns its signing key. A directory
 * holding a single key file, as downloaded from the Firebase console, is a valid setup: that key
 * signs. Every file is validated completely; any bad file fails the load.
 */
export function loadSigningKey(dir: string, projectId: string, logger: Logger): ServiceAccountKey {
  const keyring = loadKeyring(dir, projectId);
  warnOnWideModes(keyring, logger);
  return keyring.active.key;
}

/** Key files should be 0600: warns (file name and mode only) about any other user can read. */
export function warnOnWideModes(keyring: Pick<Keyring, 'entries'>, logger: Logger): void {
  for (const entry of keyring.entries as KeyringEntry[]) {
    if (entry.mode & 0o077) {
      logger.warn({ file: entry.key.file, mode: entry.mode.toString(8) }, 'key file is readable by other users; chmod 600 it');
    }
  }
}
