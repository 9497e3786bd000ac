import type { Logger } from 'pino';
import type { Keyring, KeyringEntry } from './keyring';

/** Key files should be 0600: warns (file name and mode only) about any other user can read. */
export function warnOnWideModes(keyring: Pick<Keyring, 'entries'>, logger: Logger): void {
  for (const entry of keyring.entries as KeyringEntry[]) {
    if (entry.mode & 0o077) {
      logger.warn({ file: entry.key.file, mode: entry.mode.toString(8) }, 'key file is readable by other users; chmod 600 it');
    }
  }
}
