import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/audit-trail';
import type { ServiceAccountKey } from './service-account-key';
import { warnOnWideModes } from './key-file-modes';
import { type KeyDirScan, type Keyring, type KeyringEntry, loadKeyringAsync, scanKeyDir } from './keyring';

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
  /** Reloads (new, removed and activated kids) and rejected changes are recorded here. */
  audit?: AuditTrail;
}

export type ReloadOutcome = 'unchanged' | 'reloaded' | 'rejected';

interface PendingReload {
  trigger: string;
  force: boolean;
  waiters: Array<(outcome: ReloadOutcome) => void>;
}

/**
 * Keeps the signing key in step with KEYS_DIR while the server runs. Triggers: fs.watch on the
 * directory, a periodic fingerprint poll (robust to Kubernetes' `..data` symlink swap, which some
 * platforms report poorly) and SIGHUP (src/main.ts). A change is validated completely before it is
 * swapped in; a bad one is logged and the last good keyring keeps signing. Logs name kids only.
 *
 * Everything it does while the server serves is asynchronous and cheap when nothing changed: a
 * poll stats the *.json files (name, size, mtime, inode, mode) and reads no content unless that
 * metadata changed; contents are read only from regular files of at most 64 KiB, opened
 * non-blocking (src/keys/keyring.ts), so a FIFO or a huge file never stalls the event loop. One
 * reload runs at a time; requests meanwhile are merged into one that runs next.
 */
export class KeyringWatcher {
  private current: Keyring & { active: KeyringEntry };
  /** Fingerprint last examined, good or bad: a rejected state is logged once, not every poll. */
  private lastSeen: string;
  private watcher?: FSWatcher;
  private poll?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  /** The reload running now, if any, and the one requested meanwhile (at most one waits). */
  private active?: Promise<void>;
  private pending?: PendingReload;
  /** The last rejection recorded in the audit trail (cleared by a good reload). */
  private lastFailureAudited?: string;
  /** Changes of KEYS_DIR swapped in or rejected (firebridge_keyring_reloads_total); unchanged polls are not counted. */
  readonly reloads = { reloaded: 0, rejected: 0 };

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
      this.poll = setInterval(() => void this.reload('poll'), pollIntervalMs);
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
      void this.reload('watch');
    }, this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  /**
   * Re-reads KEYS_DIR. Unless forced (SIGHUP), a directory whose metadata fingerprint was already
   * examined is skipped without reading any file. Never rejects: a bad directory is rejected and
   * logged. While a reload runs, further requests wait for one more reload after it (forced if
   * any of them was), so bursts of fs.watch events and polls never pile up.
   */
  reload(trigger: string, force = false): Promise<ReloadOutcome> {
    return new Promise((resolve) => {
      if (this.pending) {
        if (force && !this.pending.force) this.pending.trigger = trigger;
        this.pending.force ||= force;
        this.pending.waiters.push(resolve);
      } else {
        this.pending = { trigger, force, waiters: [resolve] };
      }
      this.active ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Each pass takes the one pending request; a new one is only queued by a caller meanwhile.
    while (this.pending) {
      const { trigger, force, waiters } = this.pending;
      this.pending = undefined;
      const outcome = await this.reloadNow(trigger, force).catch((err: unknown): ReloadOutcome => {
        this.rejected(trigger, err);
        return 'rejected';
      });
      if (outcome !== 'unchanged') this.reloads[outcome] += 1;
      for (const resolve of waiters) resolve(outcome);
    }
    this.active = undefined;
  }

  private rejected(trigger: string, err: unknown): void {
    // KeyFileError messages name the file and the problem, never key material.
    const reason = (err as { code?: string }).code ?? 'unexpected';
    const detail = (err as Error).message;
    // Audited once per distinct failure: an unreadable directory is logged on every poll, not audited on every poll.
    if (this.lastFailureAudited !== `${reason} ${detail}`) {
      this.lastFailureAudited = `${reason} ${detail}`;
      this.options.audit?.record({ event: 'key.reload_failed', trigger, reason, detail, activeKid: this.current.active.kid });
    }
    this.options.logger.error(
      { trigger, dir: this.options.dir, err: (err as Error).message, activeKid: this.current.active.kid },
      'key directory change rejected; still signing with the last good keyring',
    );
  }

  private async reloadNow(trigger: string, force: boolean): Promise<ReloadOutcome> {
    const { dir, projectId, logger, signer } = this.options;
    let scan: KeyDirScan;
    try {
      scan = await scanKeyDir(dir);
    } catch (err) {
      // The directory itself cannot be read: said every time, as before.
      this.rejected(trigger, err);
      return 'rejected';
    }
    if (!force && scan.fingerprint === this.lastSeen) return 'unchanged';
    let next: Keyring & { active: KeyringEntry };
    try {
      next = await loadKeyringAsync(dir, projectId, { currentKid: this.current.active.kid, scan });
    } catch (err) {
      if (force || scan.fingerprint !== this.lastSeen) this.rejected(trigger, err);
      this.lastSeen = scan.fingerprint;
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
    this.lastFailureAudited = undefined;
    this.options.audit?.record({
      event: activeChanged ? 'key.rotate' : 'key.reload',
      trigger,
      kid: next.active.kid,
      previousKid: before.active.kid,
      added,
      retired: removed,
      kids: [...afterKids],
    });
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
