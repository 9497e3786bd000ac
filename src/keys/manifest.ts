import { MANIFEST_FILE } from '../config/keys';
import { KeyFileError } from '../errors';

export { MANIFEST_FILE };

/**
 * The keyring manifest, KEYS_DIR/keyring.json: which installed key signs, and when (and by whom)
 * each key was added. It names keys by kid (private_key_id) and file; it never holds key material.
 * A directory with a single key file needs no manifest: that key signs.
 */

export interface ManifestEntry {
  /** The key file's name inside KEYS_DIR. */
  file: string;
  /** ISO 8601 time the key was installed. */
  addedAt: string;
  /** Who installed it (audit). */
  addedBy?: string;
}

export interface Manifest {
  version: 1;
  /** kid of the signing key. */
  active: string;
  keys: Record<string, ManifestEntry>;
}

const SAFE_FILE = /^[A-Za-z0-9_.@-]+\.json$/;

export function parseManifest(text: string, file: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyFileError(file, 'is not valid JSON (the keyring manifest)');
  }
  const record = doc as Partial<Manifest> | null;
  if (typeof record !== 'object' || record === null || record.version !== 1) {
    throw new KeyFileError(file, 'is not a keyring manifest (expected {"version": 1, "active": ..., "keys": {...}})');
  }
  if (typeof record.active !== 'string' || record.active === '') {
    throw new KeyFileError(file, '"active" must name the kid of the signing key');
  }
  if (typeof record.keys !== 'object' || record.keys === null || Array.isArray(record.keys)) {
    throw new KeyFileError(file, '"keys" must be an object of kid → {file, addedAt}');
  }
  // No prototype: kids such as "constructor" or "__proto__" are plain keys, never inherited ones.
  const keys: Record<string, ManifestEntry> = Object.create(null) as Record<string, ManifestEntry>;
  for (const [kid, entry] of Object.entries(record.keys as Record<string, unknown>)) {
    const e = entry as Partial<ManifestEntry> | null;
    if (typeof e !== 'object' || e === null || typeof e.file !== 'string' || !SAFE_FILE.test(e.file) || e.file === MANIFEST_FILE) {
      throw new KeyFileError(file, `key "${kid}" must name a key file (*.json) in KEYS_DIR`);
    }
    if (typeof e.addedAt !== 'string' || Number.isNaN(Date.parse(e.addedAt))) {
      throw new KeyFileError(file, `key "${kid}" needs "addedAt" (an ISO 8601 time)`);
    }
    keys[kid] = { file: e.file, addedAt: e.addedAt, ...(typeof e.addedBy === 'string' ? { addedBy: e.addedBy } : {}) };
  }
  if (!Object.hasOwn(keys, record.active)) {
    throw new KeyFileError(file, `"active" names kid ${record.active}, which is not among its keys`);
  }
  return { version: 1, active: record.active, keys };
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
