import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import type { ServiceAccountKey } from './service-account-key';
import { warnOnWideModes } from './key-file-modes';
import { type Keyring, type KeyringEntry, keyDirFingerprint, loadKeyring } from './keyring';

export interface KeySink {
  /** Swaps the signing key atomically (a mint in progress keeps the key it started with). */
  setKey(key: ServiceAccountKey): void;
}

export interface KeyringWatcherOptions {
  dir: string;
  projectId: string;
  signer: KeySink;
  logger: Logger;
  /** The keyring the server started with (already validated and in use). */
  initial: Keyring & { active: KeyringEntry };
  /** Re-read KEYS_DIR this often (0: only on fs.watch events and SIGHUP). */
  pollIntervalMs: number;
  /** Quiet time after an fs.watch event before reading (writers rename several files). */
  debounceMs?: number;
}

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'rejected';

/**
 * Keeps the signing key in step with KEYS_DIR while the server runs. Triggers: fs.watch on the
 * directory, a periodic fingerprint poll (robust to Kubernetes' `..data` symlink swap, which some
 * platforms report poorly) and SIGHUP (src/main.ts). A change is validated completely before it is
 * swapped in; a bad one is logged and the last good keyring keeps signing. Logs name kids only.
 */
export class KeyringWatcher {
  private current: Keyring & { active: KeyringEntry };
  /** Fingerprint last examined, good or bad: a rejected state is logged once, not every poll. */
  private lastSeen: string;
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;

  constructor(private readonly options: KeyringWatcherOptions) {
    this.current = options.initial;
    this.lastSeen = options.initial.fingerprint;
  }

  keyring(): Keyring & { active: KeyringEntry } {
    return this.current;
  }

  start(): void {
    const { dir, logger, pollIntervalMs } = this.options;
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        logger.warn({ dir, err: err.message }, 'watching KEYS_DIR failed; relying on polling and SIGHUP');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      logger.warn({ dir, err: (err as Error).message }, 'cannot watch KEYS_DIR; relying on polling and SIGHUP');
    }
    if (pollIntervalMs > 0) {
      this.poll = setInterval(() => this.reload('poll'), pollIntervalMs);
      this.poll.unref();
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = undefined;
    this.debounce = undefined;
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.reload('watch');
    }, this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  /**
   * Re-reads KEYS_DIR. Unless forced (SIGHUP), a directory whose fingerprint was already examined
   * is skipped. Never throws: a bad directory is rejected and logged.
   */
  reload(trigger: string, force = false): ReloadOutcome {
    const { dir, projectId, logger, signer } = this.options;
    let next: Keyring & { active: KeyringEntry };
    try {
      if (!force && keyDirFingerprint(dir) === this.lastSeen) return 'unchanged';
      next = loadKeyring(dir, projectId, { currentKid: this.current.active.kid });
    } catch (err) {
      let fingerprint: string | undefined;
      try {
        fingerprint = keyDirFingerprint(dir);
      } catch {
        fingerprint = undefined;
      }
      if (force || fingerprint === undefined || fingerprint !== this.lastSeen) {
        // KeyFileError messages name the file and the problem, never key material.
        logger.error(
          { trigger, dir, err: (err as Error).message, activeKid: this.current.active.kid },
          'key directory change rejected; still signing with the last good keyring',
        );
      }
      if (fingerprint !== undefined) this.lastSeen = fingerprint;
      return 'rejected';
    }
    this.lastSeen = next.fingerprint;
    const before = this.current;
    const beforeKids = new Set(before.entries.map((e) => e.kid));
    const afterKids = new Set(next.entries.map((e) => e.kid));
    const added = [...afterKids].filter((kid) => !beforeKids.has(kid));
    const removed = [...beforeKids].filter((kid) => !afterKids.has(kid));
    const activeChanged = before.active.kid !== next.active.kid;
    // Swap even when the kid is the same: the file may have been replaced by a re-download.
    signer.setKey(next.active.key);
    this.current = next;
    if (added.length > 0) warnOnWideModes({ entries: next.entries.filter((e) => added.includes(e.kid)) }, logger);
    logger.info(
      {
        trigger,
        activeKid: next.active.kid,
        previousActiveKid: before.active.kid,
        activeChanged,
        added,
        removed,
        kids: [...afterKids],
        serviceAccount: next.active.key.clientEmail,
      },
      activeChanged ? 'keyring reloaded: new signing key' : 'keyring reloaded',
    );
    return 'reloaded';
  }
}
