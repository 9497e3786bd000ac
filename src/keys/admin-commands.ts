import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock';
import type { KeysAdminConfig } from '../config';
import { KeyAdminError, KeyFileError } from '../errors';
import { writeFileAtomic } from './atomic-write';
import { type Keyring, inspectKeyring, readKeyFileSync, validateKey } from './keyring';
import { MANIFEST_FILE, type Manifest, serializeManifest } from './manifest';

/**
 * The `keys` admin commands (scripts/keys.ts is a thin wrapper, src/keys/keys-cli.ts parses and
 * audits). Every command validates the whole keyring first and changes nothing when refused.
 * Writes are atomic (temp file 0600 + rename), in an order the running server can read at any
 * moment: a new key file before the manifest that activates it; a manifest without the key
 * before the key file is deleted.
 */
/** Creating and deleting service-account keys at Google. */
export interface RemoteKeyAdmin {
  createKey(email: string, projectId?: string): Promise<{ kid: string; keyFileJson: string }>;
  deleteKey(email: string, kid: string, projectId?: string): Promise<void>;
}

export interface KeyAdminDeps {
  config: Pick<KeysAdminConfig, 'keysDir' | 'projectId' | 'serviceAccountEmail'>;
  clock: Clock;
  /** The IAM client, created only when a command needs it. */
  /** The IAM API's key methods (google/iam.ts), built only for the commands that need them. */
  iam: () => RemoteKeyAdmin;
  /** Who runs the command (recorded in the manifest as addedBy). */
  operator: string;
}

export interface KeyListing {
  kid: string;
  serviceAccount: string;
  projectId: string;
  addedAt: string;
  addedBy?: string;
  file: string;
  signing: boolean;
}

export interface CommandResult {
  kid?: string;
  /** One line for the operator (and the audit log). */
  message: string;
}

function currentKeyring(deps: KeyAdminDeps, allowMissingDir = false): Keyring {
  const { keysDir, projectId } = deps.config;
  if (allowMissingDir && !existsSync(keysDir)) mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  try {
    return inspectKeyring(keysDir, projectId);
  } catch (err) {
    if (err instanceof KeyFileError) {
      throw new KeyAdminError(`KEYS_DIR is not a valid keyring right now (${err.message}); fix it first, nothing was changed`);
    }
    throw err;
  }
}

function manifestOf(keyring: Keyring): Manifest {
  if (keyring.manifest) return { ...keyring.manifest, keys: { ...keyring.manifest.keys } };
  const keys: Manifest['keys'] = {};
  for (const entry of keyring.entries) {
    keys[entry.kid] = { file: entry.file, addedAt: entry.addedAt, ...(entry.addedBy ? { addedBy: entry.addedBy } : {}) };
  }
  return { version: 1, active: keyring.active?.kid ?? '', keys };
}

function writeManifest(dir: string, manifest: Manifest): void {
  writeFileAtomic(path.join(dir, MANIFEST_FILE), serializeManifest(manifest));
}

function findEntry(keyring: Keyring, kid: string) {
  const entry = keyring.entries.find((e) => e.kid === kid);
  if (!entry) {
    const known = keyring.entries.map((e) => e.kid).join(', ') || 'none';
    throw new KeyAdminError(`no installed key has kid ${kid} (installed: ${known})`);
  }
  return entry;
}

export function listKeys(deps: KeyAdminDeps): KeyListing[] {
  const keyring = currentKeyring(deps);
  return keyring.entries.map((entry) => ({
    kid: entry.kid,
    serviceAccount: entry.key.clientEmail,
    projectId: entry.key.projectId,
    addedAt: entry.addedAt,
    ...(entry.addedBy ? { addedBy: entry.addedBy } : {}),
    file: entry.file,
    signing: keyring.active?.kid === entry.kid,
  }));
}

export function formatKeyList(listing: KeyListing[]): string[] {
  if (listing.length === 0) return ['no keys installed'];
  const lines = listing.map(
    (k) => `${k.signing ? '* signing ' : '  waiting '} ${k.kid}  ${k.serviceAccount}  added ${k.addedAt}${k.addedBy ? ` by ${k.addedBy}` : ''}  (${k.file})`,
  );
  if (!listing.some((k) => k.signing)) lines.push('no signing key: run `npm run keys -- activate <kid>`');
  return lines;
}

/**
 * A file name for a kid: the kid itself when it is a plain token (but never the manifest's name),
 * else a digest-like safe form.
 */
function fileNameFor(kid: string): string {
  const plain = /^[A-Za-z0-9_-]{1,100}$/.test(kid) && `${kid}.json` !== MANIFEST_FILE;
  return plain ? `${kid}.json` : `key-${Buffer.from(kid).toString('hex').slice(0, 64)}.json`;
}

/** Validates a key file's text and installs it as the signing key (the previous one stays). */
export function installSigningKey(deps: KeyAdminDeps, text: string, label: string): CommandResult {
  const dir = deps.config.keysDir;
  const keyring = currentKeyring(deps, true);
  const project = deps.config.projectId ?? keyring.active?.key.projectId ?? keyring.entries[0]?.key.projectId;
  let key;
  try {
    key = validateKey(text, label, project);
  } catch (err) {
    if (err instanceof KeyFileError) throw new KeyAdminError(`refused, nothing changed: ${err.message}`);
    throw err;
  }
  const kid = key.privateKeyId;
  const installed = keyring.entries.find((e) => e.kid === kid);
  if (installed) {
    throw new KeyAdminError(`key ${kid} is already installed (${installed.file}); use \`activate ${kid}\` to make it sign`);
  }
  const file = fileNameFor(kid);
  const target = path.join(dir, file);
  if (existsSync(target)) throw new KeyAdminError(`${target} already exists; nothing changed`);
  const manifest = manifestOf(keyring);
  manifest.keys[kid] = { file, addedAt: new Date(deps.clock()).toISOString(), addedBy: deps.operator };
  manifest.active = kid;
  writeFileAtomic(target, text);
  try {
    writeManifest(dir, manifest);
  } catch (err) {
    unlinkSync(target);
    throw new KeyAdminError(`cannot write ${MANIFEST_FILE} (${(err as NodeJS.ErrnoException).code ?? 'error'}); nothing changed`);
  }
  const after = inspectKeyring(dir, project);
  if (after.active?.kid !== kid) throw new KeyAdminError(`installed key ${kid} but the keyring does not show it signing; check KEYS_DIR`);
  const previous = keyring.active ? `; previous signing key ${keyring.active.kid} stays installed` : '';
  return { kid, message: `key ${kid} (${key.clientEmail}) installed as ${file} and now signs${previous}` };
}

/** rotate --from <file.json> */
export function rotateFromFile(deps: KeyAdminDeps, file: string): CommandResult {
  let text: string;
  try {
    // The same checks as KEYS_DIR's files: a regular file of at most 64 KiB, opened non-blocking.
    text = readKeyFileSync(file);
  } catch (err) {
    if (err instanceof KeyFileError) throw new KeyAdminError(`refused, nothing changed: ${err.message}`);
    throw err;
  }
  return installSigningKey(deps, text, file);
}

/** rotate --create: a new key from IAM (keys.create) with the operator's ADC, installed as signing key. */
export async function rotateCreate(deps: KeyAdminDeps): Promise<CommandResult> {
  const keyring = currentKeyring(deps, true);
  const email = deps.config.serviceAccountEmail ?? keyring.active?.key.clientEmail;
  if (!email) {
    throw new KeyAdminError('no service account to create a key for: set SERVICE_ACCOUNT_EMAIL or install a key first');
  }
  const project = keyring.active?.key.projectId ?? deps.config.projectId ?? '-';
  const iam = deps.iam();
  const created = await iam.createKey(email, project);
  try {
    const result = installSigningKey(deps, created.keyFileJson, `IAM key ${created.kid}`);
    return { kid: result.kid, message: `created in IAM: ${result.message}` };
  } catch (err) {
    // Do not leave an orphan key in IAM that nothing holds.
    try {
      await iam.deleteKey(email, created.kid, project);
    } catch {
      throw new KeyAdminError(`${(err as Error).message}; the key ${created.kid} created in IAM could NOT be deleted: delete it by hand`);
    }
    throw new KeyAdminError(`${(err as Error).message}; the key ${created.kid} created in IAM was deleted again`);
  }
}

/** retire <kid> [--delete-remote]: removes a key that does not sign. */
export async function retireKey(deps: KeyAdminDeps, kid: string, options: { deleteRemote: boolean }): Promise<CommandResult> {
  const dir = deps.config.keysDir;
  const keyring = currentKeyring(deps);
  const entry = findEntry(keyring, kid);
  if (keyring.active?.kid === kid) {
    throw new KeyAdminError(`key ${kid} is the signing key and cannot be retired; activate another key first (npm run keys -- activate <kid>)`);
  }
  if (!keyring.manifest && keyring.entries.length > 1) {
    // Without a manifest, a running server signs with whichever key it had: this one, perhaps.
    throw new KeyAdminError(
      `KEYS_DIR has ${keyring.entries.length} keys and no manifest, so which one a running server signs with is not recorded; ` +
        'run `npm run keys -- activate <kid>` for the key that should sign, then retire the other',
    );
  }
  if (options.deleteRemote) {
    await deps.iam().deleteKey(entry.key.clientEmail, kid, entry.key.projectId);
  }
  if (keyring.manifest) {
    const manifest = manifestOf(keyring);
    delete manifest.keys[kid];
    writeManifest(dir, manifest);
  }
  unlinkSync(path.join(dir, entry.file));
  return { kid, message: `key ${kid} removed from KEYS_DIR${options.deleteRemote ? ' and deleted in IAM' : ''}` };
}

/** activate <kid>: makes an installed key the signing key (a rollback). */
export function activateKey(deps: KeyAdminDeps, kid: string): CommandResult {
  const keyring = currentKeyring(deps);
  findEntry(keyring, kid);
  if (keyring.active?.kid === kid && keyring.manifest) return { kid, message: `key ${kid} already signs; nothing changed` };
  const manifest = manifestOf(keyring);
  manifest.active = kid;
  writeManifest(deps.config.keysDir, manifest);
  const previous = keyring.active && keyring.active.kid !== kid ? ` (was ${keyring.active.kid})` : '';
  return { kid, message: `key ${kid} now signs${previous}` };
}
