import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { KeyFileError } from '../errors';
import { type ServiceAccountKey, belongsToProject, parseServiceAccountKey } from './service-account-key';
import { isKeyFileName } from '../config/keys';
import { MANIFEST_FILE, type Manifest, parseManifest } from './manifest';

/** One installed key. */
export interface KeyringEntry {
  kid: string;
  key: ServiceAccountKey;
  /** File name inside KEYS_DIR. */
  file: string;
  /** When it was installed (the manifest's record, else the file's mtime). */
  addedAt: string;
  addedBy?: string;
  /** Permission bits of the file. */
  mode: number;
}

/** A validated KEYS_DIR: every key file parsed and checked, and the signing key picked. */
export interface Keyring {
  dir: string;
  /** Sorted by kid. */
  entries: KeyringEntry[];
  /** The signing key; undefined for an empty directory or several keys without a manifest. */
  active?: KeyringEntry;
  manifest?: Manifest;
  /** Hash of the directory's relevant contents: equal fingerprints, same keyring. */
  fingerprint: string;
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

export { isKeyFileName };

interface RawFile {
  name: string;
  text: string;
  /** Why it could not be read (the load fails; the fingerprint still covers it). */
  readError?: KeyFileError;
  mode: number;
  mtimeMs: number;
}

interface Snapshot {
  files: RawFile[];
  manifestText?: string;
  manifestError?: KeyFileError;
  fingerprint: string;
}

/** Reads the directory (following symlinks, as a Kubernetes secret mount needs). */
function readSnapshot(dir: string): Snapshot {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new KeyFileError(dir, `cannot read the key directory (${errnoOf(err)})`);
  }
  const hash = createHash('sha256');
  const files: RawFile[] = [];
  let manifestText: string | undefined;
  let manifestError: KeyFileError | undefined;
  for (const name of names) {
    if (!isKeyFileName(name) && name !== MANIFEST_FILE) continue;
    const file = path.join(dir, name);
    let text = '';
    let mode = 0;
    let mtimeMs = 0;
    let readError: KeyFileError | undefined;
    try {
      const stat = statSync(file);
      mode = stat.mode & 0o777;
      mtimeMs = stat.mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch (err) {
      readError = new KeyFileError(file, `cannot be read (${errnoOf(err)})`);
    }
    hash.update(`${name}\0${readError ? `!${readError.message}` : text}\0`);
    if (name === MANIFEST_FILE) {
      manifestText = text;
      manifestError = readError;
    }
    else files.push({ name, text, mode, mtimeMs, readError });
  }
  return { files, manifestText, manifestError, fingerprint: hash.digest('hex') };
}

/** The fingerprint alone (cheap enough to poll: key files are a few KB). */
export function keyDirFingerprint(dir: string): string {
  return readSnapshot(dir).fingerprint;
}

function projectMismatch(key: ServiceAccountKey, projectId: string): KeyFileError {
  return new KeyFileError(
    key.file,
    `belongs to project "${key.projectId}" (${key.clientEmail}), not FIREBASE_PROJECT_ID "${projectId}"; ` +
      'custom tokens it signs would be refused by Firebase',
  );
}

/** Parses a key and checks it belongs to the project (when one is given). */
export function validateKey(text: string, file: string, projectId: string | undefined): ServiceAccountKey {
  const key = parseServiceAccountKey(text, file);
  if (projectId !== undefined && !belongsToProject(key, projectId)) throw projectMismatch(key, projectId);
  return key;
}

/**
 * Reads and validates KEYS_DIR completely. Any bad file fails the whole load, so a half-broken
 * directory is never taken for a good one. Without projectId, all keys must share one project.
 * An empty directory, or several keys and no manifest, load with no active key.
 */
export function inspectKeyring(dir: string, projectId?: string): Keyring {
  const snapshot = readSnapshot(dir);
  if (snapshot.manifestError) throw snapshot.manifestError;
  const manifest =
    snapshot.manifestText === undefined ? undefined : parseManifest(snapshot.manifestText, path.join(dir, MANIFEST_FILE));
  const byKid = new Map<string, KeyringEntry>();
  const byFile = new Map<string, KeyringEntry>();
  let project = projectId;
  for (const raw of snapshot.files) {
    if (raw.readError) throw raw.readError;
    const key = validateKey(raw.text, path.join(dir, raw.name), project);
    project ??= key.projectId;
    if (projectId === undefined && !belongsToProject(key, project)) throw projectMismatch(key, project);
    const other = byKid.get(key.privateKeyId);
    if (other) {
      throw new KeyFileError(key.file, `holds the same key (kid ${key.privateKeyId}) as ${other.file}; remove one`);
    }
    const recorded = manifest?.keys[key.privateKeyId];
    const entry: KeyringEntry = {
      kid: key.privateKeyId,
      key,
      file: raw.name,
      addedAt: recorded?.addedAt ?? new Date(raw.mtimeMs).toISOString(),
      ...(recorded?.addedBy !== undefined ? { addedBy: recorded.addedBy } : {}),
      mode: raw.mode,
    };
    byKid.set(entry.kid, entry);
    byFile.set(raw.name, entry);
  }
  let active: KeyringEntry | undefined;
  if (manifest) {
    const manifestFile = path.join(dir, MANIFEST_FILE);
    for (const [kid, recorded] of Object.entries(manifest.keys)) {
      const entry = byFile.get(recorded.file);
      if (!entry) throw new KeyFileError(manifestFile, `lists key ${kid} in ${recorded.file}, which is missing`);
      if (entry.kid !== kid) throw new KeyFileError(manifestFile, `lists key ${kid} in ${recorded.file}, which holds key ${entry.kid}`);
    }
    active = byKid.get(manifest.active);
  } else if (byKid.size === 1) {
    active = [...byKid.values()][0];
  }
  const entries = [...byKid.values()].sort((a, b) => a.kid.localeCompare(b.kid));
  return { dir, entries, active, manifest, fingerprint: snapshot.fingerprint };
}

/**
 * The server's load: like inspectKeyring, but there must be a signing key. A running server
 * passes the kid it signs with: when a key is added to a directory without a manifest, that
 * key keeps signing (the new one waits) instead of the change being refused.
 */
export function loadKeyring(dir: string, projectId: string, options: { currentKid?: string } = {}): Keyring & { active: KeyringEntry } {
  const keyring = inspectKeyring(dir, projectId);
  if (!keyring.active && !keyring.manifest && options.currentKid !== undefined) {
    keyring.active = keyring.entries.find((e) => e.kid === options.currentKid);
  }
  if (keyring.entries.length === 0) {
    throw new KeyFileError(dir, 'holds no service-account key file (*.json); download one from the Firebase console');
  }
  if (!keyring.active) {
    throw new KeyFileError(
      dir,
      `holds ${keyring.entries.length} key files and no ${MANIFEST_FILE} naming the signing key; ` +
        'run `npm run keys -- activate <kid>` or keep exactly one key file',
    );
  }
  return keyring as Keyring & { active: KeyringEntry };
}

/** Whether KEYS_DIR holds any key file at all (a missing directory holds none). */
export function hasKeyFiles(dir: string): boolean {
  try {
    return readdirSync(dir).some(isKeyFileName);
  } catch {
    return false;
  }
}
