import path from 'node:path';
import { MANIFEST_FILE } from '../config/keys';
import { type KeyDirScan, MAX_KEY_DIR_FILES, readKeyFileSync, scanKeyDirSync, validateKey } from '../keys/keyring';
import { parseManifest } from '../keys/manifest';
import { type DoctorCheck, type Verdict, fail, notApplicable, ok, reasonOf, warn } from './check';
import { loadServerKeyring, signingSetup } from './signing-setup';

const INSTALL = 'download a key of the project (Firebase console → Project settings → Service accounts) and install it with `npm run keys -- rotate --from <file.json>`';

/**
 * KEYS_DIR: every key file parses as a service-account key of FIREBASE_PROJECT_ID and is 0600, the
 * manifest (when present) is valid, and the server could pick its signing key. Every bad file is named,
 * not only the first.
 */
export const keyFilesCheck: DoctorCheck = {
  id: 'key-files',
  name: 'key files',
  async run({ config }): Promise<Verdict> {
    const setup = signingSetup(config);
    if (setup.mode === 'local') return notApplicable('local mode: throwaway keys in LOCAL_STATE_DIR, KEYS_DIR is not read');
    if (setup.mode === 'keyless') {
      return notApplicable(`keyless signing as ${setup.serviceAccountEmail}: KEYS_DIR holds no key file (see "keyless signing")`);
    }
    const { keysDir, projectId } = setup.config;
    let scan: KeyDirScan;
    try {
      scan = scanKeyDirSync(keysDir);
    } catch (err) {
      return fail(reasonOf(err), `create KEYS_DIR and ${INSTALL}`);
    }
    if (scan.tooMany !== undefined) return fail(`KEYS_DIR holds ${scan.tooMany} *.json files; at most ${MAX_KEY_DIR_FILES} are read`, 'remove what is not a key file');
    const errors: string[] = [];
    const wide: string[] = [];
    let keys = 0;
    for (const scanned of scan.files) {
      const file = path.join(keysDir, scanned.name);
      try {
        const text = readKeyFileSync(file);
        if (scanned.name === MANIFEST_FILE) {
          parseManifest(text, file);
          continue;
        }
        validateKey(text, file, projectId);
        keys += 1;
      } catch (err) {
        errors.push(reasonOf(err));
        continue;
      }
      const mode = Number((scanned.stat?.mode ?? 0n) & 0o777n);
      if (mode & 0o077) wide.push(`${file} is ${mode.toString(8).padStart(4, '0')}`);
    }
    if (errors.length > 0) return fail(errors.join('; '), `fix or remove each file named; ${INSTALL}`);
    if (keys === 0) {
      return fail(`KEYS_DIR (${keysDir}) holds no service-account key file`, `${INSTALL}, or set SERVICE_ACCOUNT_EMAIL for keyless signing`);
    }
    const loaded = loadServerKeyring(setup.config);
    if ('problem' in loaded) return fail(loaded.problem, 'see `npm run keys -- list`');
    const active = loaded.keyring.active;
    const summary = `${keys} key file${keys === 1 ? '' : 's'} of project ${projectId}; signing key ${active.kid} (${active.key.clientEmail})`;
    if (wide.length > 0) {
      return warn(`${summary}; readable by other users: ${wide.join(', ')}`, 'chmod 600 each file named (Kubernetes: defaultMode: 0400 on the secret volume)');
    }
    return ok(`${summary}; 0600`);
  },
};
