import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * The file operations of the audit writer and verifier, asynchronous so a write never blocks a request.
 * Injected, so tests can make the disk fail (full, removed, read-only).
 */
export interface AuditFs {
  /** Creates the folder (0700) and its parents when missing. */
  mkdir(dir: string): Promise<void>;
  /** The file's text, or undefined when it does not exist. */
  readFile(file: string): Promise<string | undefined>;
  /** Names in the folder ([] when it does not exist). */
  readdir(dir: string): Promise<string[]>;
  /** Appends text to the file, creating it 0600 (and keeping it 0600). */
  append(file: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Writes the whole file 0600 through a temporary file and a rename: a reader sees the old or the new text. */
  writeAtomic(file: string, text: string): Promise<void>;
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export const nodeAuditFs: AuditFs = {
  async mkdir(dir) {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  },
  async readFile(file) {
    try {
      return await fsp.readFile(file, 'utf8');
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  },
  async readdir(dir) {
    try {
      return await fsp.readdir(dir);
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  },
  async append(file, text) {
    const handle = await fsp.open(file, 'a', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.appendFile(text, 'utf8');
    } finally {
      await handle.close();
    }
  },
  async rename(from, to) {
    await fsp.rename(from, to);
  },
  async writeAtomic(file, text) {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fsp.writeFile(temp, text, { mode: 0o600 });
      await fsp.chmod(temp, 0o600);
      await fsp.rename(temp, file);
    } catch (err) {
      await fsp.rm(temp, { force: true }).catch(() => undefined);
      throw err;
    }
  },
};
