import { createHash } from 'node:crypto';
import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
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
  /**
   * Hash of the directory's metadata (each relevant file's name, size, mtime, inode and mode, as
   * keyDirFingerprint computes it before anything is read): equal fingerprints, same keyring.
   */
  fingerprint: string;
}

/** Largest key file (or manifest) read; a service-account key file is about 2.3 KiB. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Most *.json files a KEYS_DIR may hold (IAM allows 10 keys per service account). */
export const MAX_KEY_DIR_FILES = 100;

/**
 * Key files are opened non-blocking: opening a FIFO (or a device) then never waits for a writer,
 * and the fstat that follows refuses anything but a regular file. (No effect on regular files.)
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

export { isKeyFileName };

function isRelevant(name: string): boolean {
  return isKeyFileName(name) || name === MANIFEST_FILE;
}

/** One relevant directory entry, stat'ed (following symlinks, as a Kubernetes secret mount needs). */
interface ScannedFile {
  name: string;
  stat?: BigIntStats;
  /** errno of a failed stat (a dangling symlink: ENOENT). */
  statError?: string;
}

/** KEYS_DIR's metadata, taken before any file is read. */
export interface KeyDirScan {
  dir: string;
  files: ScannedFile[];
  /** Set when the directory holds more than MAX_KEY_DIR_FILES *.json files (none is stat'ed then). */
  tooMany?: number;
  fingerprint: string;
}

function metadataOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.mode}`;
}

function relevantNames(names: string[]): string[] {
  return names.filter(isRelevant).sort();
}

function finishScan(dir: string, names: string[], files: ScannedFile[] | undefined): KeyDirScan {
  const hash = createHash('sha256');
  if (files === undefined) {
    hash.update(`too many\0${names.join('\0')}`);
    return { dir, files: [], tooMany: names.length, fingerprint: hash.digest('hex') };
  }
  for (const file of files) hash.update(`${file.name}\0${file.stat ? metadataOf(file.stat) : `!${file.statError}`}\0`);
  return { dir, files, fingerprint: hash.digest('hex') };
}

function cannotReadDir(dir: string, err: unknown): KeyFileError {
  return new KeyFileError(dir, `cannot read the key directory (${errnoOf(err)})`);
}

/** The metadata scan, synchronous (start-up and the `keys` CLI only). */
export function scanKeyDirSync(dir: string): KeyDirScan {
  let names: string[];
  try {
    names = relevantNames(readdirSync(dir));
  } catch (err) {
    throw cannotReadDir(dir, err);
  }
  if (names.length > MAX_KEY_DIR_FILES) return finishScan(dir, names, undefined);
  const files = names.map((name): ScannedFile => {
    try {
      return { name, stat: statSync(path.join(dir, name), { bigint: true }) };
    } catch (err) {
      return { name, statError: errnoOf(err) };
    }
  });
  return finishScan(dir, names, files);
}

/** The metadata scan (readdir and one stat per *.json file): what the running server polls. */
export async function scanKeyDir(dir: string): Promise<KeyDirScan> {
  let names: string[];
  try {
    names = relevantNames(await readdir(dir));
  } catch (err) {
    throw cannotReadDir(dir, err);
  }
  if (names.length > MAX_KEY_DIR_FILES) return finishScan(dir, names, undefined);
  const files: ScannedFile[] = [];
  for (const name of names) {
    try {
      files.push({ name, stat: await stat(path.join(dir, name), { bigint: true }) });
    } catch (err) {
      files.push({ name, statError: errnoOf(err) });
    }
  }
  return finishScan(dir, names, files);
}

/** The fingerprint alone, from metadata only: no file is opened or read. */
export async function keyDirFingerprint(dir: string): Promise<string> {
  return (await scanKeyDir(dir)).fingerprint;
}

function kindOf(st: BigIntStats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** Refuses what is not a regular file of at most MAX_KEY_FILE_BYTES (by its metadata, before reading). */
function checkReadable(file: string, st: BigIntStats): void {
  if (!st.isFile()) {
    throw new KeyFileError(file, `is not a regular file (${kindOf(st)}); key files must be regular files`);
  }
  if (st.size > BigInt(MAX_KEY_FILE_BYTES)) {
    throw new KeyFileError(file, `is ${st.size} bytes, over the ${MAX_KEY_FILE_BYTES / 1024} KiB limit of a key file; not read`);
  }
}

function readFailed(file: string, err: unknown): KeyFileError {
  return err instanceof KeyFileError ? err : new KeyFileError(file, `cannot be read (${errnoOf(err)})`);
}

function decoded(file: string, buffer: Buffer, length: number): string {
  // Read one byte more than the limit: a file that grew after the fstat is refused, not cut.
  if (length > MAX_KEY_FILE_BYTES) {
    throw new KeyFileError(file, `grew over the ${MAX_KEY_FILE_BYTES / 1024} KiB limit of a key file while read`);
  }
  return buffer.subarray(0, length).toString('utf8');
}

/**
 * Reads a key file (or the manifest) synchronously, for start-up and the `keys` CLI: opened
 * non-blocking (a FIFO never blocks the open), then fstat'ed, so only a regular file of at most
 * MAX_KEY_FILE_BYTES is read, and never more than that many bytes (plus one).
 */
export function readKeyFileSync(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw readFailed(file, err);
  }
  try {
    checkReadable(file, fstatSync(fd, { bigint: true }));
    const buffer = Buffer.allocUnsafe(MAX_KEY_FILE_BYTES + 1);
    let length = 0;
    // Bounded: each pass reads at least one byte or stops.
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return decoded(file, buffer, length);
  } catch (err) {
    throw readFailed(file, err);
  } finally {
    closeSync(fd);
  }
}

/** The same as readKeyFileSync, asynchronously: what the running server uses, off the event loop. */
export async function readKeyFile(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    throw readFailed(file, err);
  }
  try {
    checkReadable(file, await handle.stat({ bigint: true }));
    const buffer = Buffer.allocUnsafe(MAX_KEY_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return decoded(file, buffer, length);
  } catch (err) {
    throw readFailed(file, err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

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

function checkScan(scan: KeyDirScan): void {
  if (scan.tooMany !== undefined) {
    throw new KeyFileError(scan.dir, `holds ${scan.tooMany} *.json files; at most ${MAX_KEY_DIR_FILES} are read`);
  }
}

/** A scanned file's metadata, and why it cannot be read when the metadata alone says so (never opened then). */
function metadataVerdict(dir: string, scanned: ScannedFile): { file: string; mode: number; mtimeMs: number; refused?: KeyFileError } {
  const file = path.join(dir, scanned.name);
  if (!scanned.stat) return { file, mode: 0, mtimeMs: 0, refused: new KeyFileError(file, `cannot be read (${scanned.statError})`) };
  const verdict = { file, mode: Number(scanned.stat.mode & 0o777n), mtimeMs: Number(scanned.stat.mtimeMs) };
  try {
    checkReadable(file, scanned.stat);
    return verdict;
  } catch (err) {
    return { ...verdict, refused: readFailed(file, err) };
  }
}

function addToSnapshot(snapshot: Snapshot, name: string, raw: Omit<RawFile, 'name'>): void {
  if (name === MANIFEST_FILE) {
    snapshot.manifestText = raw.text;
    snapshot.manifestError = raw.readError;
  } else snapshot.files.push({ name, ...raw });
}

/** Reads what the scan found, synchronously (start-up and the `keys` CLI). */
function readSnapshotSync(scan: KeyDirScan): Snapshot {
  checkScan(scan);
  const snapshot: Snapshot = { files: [], fingerprint: scan.fingerprint };
  for (const scanned of scan.files) {
    const { file, mode, mtimeMs, refused } = metadataVerdict(scan.dir, scanned);
    let text = '';
    let readError = refused;
    if (!refused) {
      try {
        text = readKeyFileSync(file);
      } catch (err) {
        readError = readFailed(file, err);
      }
    }
    addToSnapshot(snapshot, scanned.name, { text, readError, mode, mtimeMs });
  }
  return snapshot;
}

/**
 * Reads what the scan found, asynchronously (the running server): files whose metadata already
 * rules them out (not a regular file, over the size limit, gone) are refused without being opened.
 */
async function readSnapshot(scan: KeyDirScan): Promise<Snapshot> {
  checkScan(scan);
  const snapshot: Snapshot = { files: [], fingerprint: scan.fingerprint };
  for (const scanned of scan.files) {
    const { file, mode, mtimeMs, refused } = metadataVerdict(scan.dir, scanned);
    let text = '';
    let readError = refused;
    if (!refused) {
      try {
        text = await readKeyFile(file);
      } catch (err) {
        readError = readFailed(file, err);
      }
    }
    addToSnapshot(snapshot, scanned.name, { text, readError, mode, mtimeMs });
  }
  return snapshot;
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

/** Validates a snapshot completely (see inspectKeyring). */
function keyringOf(dir: string, snapshot: Snapshot, projectId: string | undefined): Keyring {
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

/** The signing key must be known (see loadKeyring). */
function withSigningKey(dir: string, keyring: Keyring, options: { currentKid?: string }): Keyring & { active: KeyringEntry } {
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

/**
 * Reads and validates KEYS_DIR completely. Any bad file fails the whole load, so a half-broken
 * directory is never taken for a good one. Without projectId, all keys must share one project.
 * An empty directory, or several keys and no manifest, load with no active key.
 * Synchronous, for the `keys` CLI: files are still opened non-blocking and fstat'ed, so only
 * regular files of at most MAX_KEY_FILE_BYTES are read (readKeyFileSync).
 */
export function inspectKeyring(dir: string, projectId?: string): Keyring {
  return keyringOf(dir, readSnapshotSync(scanKeyDirSync(dir)), projectId);
}

/** inspectKeyring, asynchronously; `scan` (from scanKeyDir) saves the metadata scan when already done. */
export async function inspectKeyringAsync(dir: string, projectId?: string, scan?: KeyDirScan): Promise<Keyring> {
  return keyringOf(dir, await readSnapshot(scan ?? (await scanKeyDir(dir))), projectId);
}

/**
 * The server's load: like inspectKeyring, but there must be a signing key. A running server
 * passes the kid it signs with: when a key is added to a directory without a manifest, that
 * key keeps signing (the new one waits) instead of the change being refused.
 * Synchronous: for start-up only (with the same regular-file and size checks); the running
 * server reloads with loadKeyringAsync.
 */
export function loadKeyring(dir: string, projectId: string, options: { currentKid?: string } = {}): Keyring & { active: KeyringEntry } {
  return withSigningKey(dir, inspectKeyring(dir, projectId), options);
}

/** loadKeyring, asynchronously (the watcher's polls and reloads: the event loop never waits on a file). */
export async function loadKeyringAsync(
  dir: string,
  projectId: string,
  options: { currentKid?: string; scan?: KeyDirScan } = {},
): Promise<Keyring & { active: KeyringEntry }> {
  return withSigningKey(dir, await inspectKeyringAsync(dir, projectId, options.scan), options);
}

/** Whether KEYS_DIR holds any key file at all (a missing directory holds none). */
export function hasKeyFiles(dir: string): boolean {
  try {
    return readdirSync(dir).some(isKeyFileName);
  } catch {
    return false;
  }
}
