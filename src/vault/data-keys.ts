import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Clock } from '../clock';
import { VaultKeyError } from '../errors';
import type { DataKey } from './envelope';

/**
 * VAULT_KEYS_FILE: the vault's data keys (JSON, 0600). One key is active (new rows are sealed under
 * it); the others are only read, during a rotation (`npm run keys -- vault-key rotate`).
 *
 *   {"version": 1, "active": "vk-...", "keys": [{"id": "vk-...", "key": "<base64, 32 bytes>", "created": "<ISO>"}]}
 */
export interface DataKeyFile {
  version: 1;
  active: string;
  keys: Array<{ id: string; key: string; created: string }>;
}

const KEY_ID = /^vk-[A-Za-z0-9_-]{1,64}$/;

export function newDataKeyId(clock: Clock): string {
  return `vk-${new Date(clock()).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

export function newDataKeyEntry(clock: Clock): DataKeyFile['keys'][number] {
  return { id: newDataKeyId(clock), key: randomBytes(32).toString('base64'), created: new Date(clock()).toISOString() };
}

export function serializeDataKeyFile(file: DataKeyFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Parses and checks the file; VaultKeyError names what is wrong, never a key. */
export function parseDataKeyFile(text: string, where: string): DataKeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VaultKeyError(`${where} is not valid JSON`);
  }
  const file = raw as Partial<DataKeyFile> | null;
  if (typeof file !== 'object' || file === null || file.version !== 1 || !Array.isArray(file.keys) || typeof file.active !== 'string') {
    throw new VaultKeyError(`${where} is not a vault key file (version 1, "active", "keys")`);
  }
  const seen = new Set<string>();
  for (const entry of file.keys) {
    if (typeof entry !== 'object' || entry === null || typeof entry.id !== 'string' || !KEY_ID.test(entry.id) || seen.has(entry.id)) {
      throw new VaultKeyError(`${where}: a key has a missing, malformed or repeated id`);
    }
    seen.add(entry.id);
    if (typeof entry.key !== 'string' || Buffer.from(entry.key, 'base64').length !== 32) {
      throw new VaultKeyError(`${where}: key ${entry.id} is not 32 bytes of base64`);
    }
  }
  if (!seen.has(file.active)) throw new VaultKeyError(`${where}: the active key ${file.active} is not among its keys`);
  return file as DataKeyFile;
}

export function readDataKeyFile(path: string): DataKeyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new VaultKeyError(`${path} does not exist: create the vault's data key with \`npm run keys -- vault-key create\``);
    }
    throw new VaultKeyError(`${path} cannot be read (${code ?? 'error'})`);
  }
  return parseDataKeyFile(text, path);
}

/** The data keys a process uses: every key of the file by id, and the active one. */
export interface DataKeys {
  active(): DataKey;
  byId(id: string): DataKey | undefined;
  ids(): string[];
}

export function dataKeysOf(file: DataKeyFile): DataKeys {
  const map = new Map(file.keys.map((e) => [e.id, { id: e.id, key: Buffer.from(e.key, 'base64') }]));
  return {
    active: () => map.get(file.active) as DataKey,
    byId: (id) => map.get(id),
    ids: () => [...map.keys()],
  };
}

/**
 * The server's view of VAULT_KEYS_FILE, hot-reloaded: the file is stat'ed at most once per
 * `checkEveryMs` on use (and re-read when it changed), and re-read at once when a row names a key
 * it does not hold yet. A bad new file is refused and the keys in use stay.
 */
export class ReloadingDataKeys implements DataKeys {
  private keys: DataKeys;
  private stamp: string;
  private checkedAt: number;

  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly onReload: (ids: string[], err?: Error) => void = () => undefined,
    private readonly checkEveryMs = 1000,
  ) {
    this.keys = dataKeysOf(readDataKeyFile(path));
    this.stamp = this.stat();
    this.checkedAt = clock();
  }

  private stat(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  /** Re-reads the file if it changed (or `force`). */
  reload(force = false): void {
    this.checkedAt = this.clock();
    const stamp = this.stat();
    if (!force && stamp === this.stamp) return;
    try {
      this.keys = dataKeysOf(readDataKeyFile(this.path));
      this.stamp = stamp;
      this.onReload(this.keys.ids());
    } catch (err) {
      this.onReload(this.keys.ids(), err as Error);
    }
  }

  private fresh(): DataKeys {
    if (this.clock() - this.checkedAt >= this.checkEveryMs) this.reload();
    return this.keys;
  }

  active(): DataKey {
    return this.fresh().active();
  }

  byId(id: string): DataKey | undefined {
    const found = this.fresh().byId(id);
    if (found) return found;
    this.reload(true);
    return this.keys.byId(id);
  }

  ids(): string[] {
    return this.fresh().ids();
  }
}
