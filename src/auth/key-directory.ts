import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { KeyFileError } from '../errors';
import { type ServiceAccountKey, belongsToProject, parseServiceAccountKey } from './service-account';

/**
 * Reads the service-account key files (*.json) of KEYS_DIR and picks the signing key.
 * A directory holding a single key file, as downloaded from the Firebase console, is a valid
 * setup: that key signs. Every file is validated completely; any bad file fails the load, so a
 * half-broken directory is never taken for a good one.
 */
export function loadSigningKey(dir: string, projectId: string, logger: Logger): ServiceAccountKey {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  } catch (err) {
    throw new KeyFileError(dir, `cannot read the key directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (names.length === 0) {
    throw new KeyFileError(dir, 'holds no service-account key file (*.json); download one from the Firebase console');
  }
  if (names.length > 1) {
    throw new KeyFileError(dir, `holds ${names.length} key files; keep exactly one (the one that signs)`);
  }
  const file = path.join(dir, names[0] as string);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const key = parseServiceAccountKey(text, file);
  if (!belongsToProject(key, projectId)) {
    throw new KeyFileError(
      file,
      `belongs to project "${key.projectId}" (${key.clientEmail}), not FIREBASE_PROJECT_ID "${projectId}"; ` +
        'custom tokens it signs would be refused by Firebase',
    );
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    logger.warn({ file, mode: mode.toString(8) }, 'key file is readable by other users; chmod 600 it');
  }
  return key;
}
