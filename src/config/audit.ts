import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import { bool } from './hardening';
import { type Env, int, str } from './parse';
import { ConfigProblems } from './problems';

/**
 * Settings of the tamper-evident audit trail (src/audit/): where its JSON lines go, the HMAC key of
 * the chain, whether emails are written, and when a file is rotated.
 */

/** `AUDIT_LOG=-`: lines to stdout (no head file, no rotation). */
export const AUDIT_STDOUT = '-';
/** Rotate a file once it would pass this size (10 MiB); 0 never rotates. */
export const DEFAULT_AUDIT_MAX_BYTES = 10 * 1024 * 1024;
export const AUDIT_MAX_BYTES_BOUNDS = { min: 1024, max: 1024 ** 4 } as const;
/** The shortest HMAC key accepted (bytes of the file, surrounding whitespace trimmed). */
export const MIN_AUDIT_HMAC_KEY_BYTES = 32;
const MAX_KEY_FILE_BYTES = 4096;

export interface AuditSettings {
  /** AUDIT_LOG: an absolute path, or '-' for stdout (default DATA_DIR/audit.log). */
  file: string;
  /** AUDIT_HMAC_KEY_FILE's content: the chain is HMAC-SHA256 under it (else plain SHA-256). Never logged. */
  hmacKey?: Buffer;
  /** AUDIT_HMAC_KEY_FILE: the path (for messages). */
  hmacKeyFile?: string;
  /** AUDIT_INCLUDE_EMAIL: user emails are written only when true. */
  includeEmail: boolean;
  /** AUDIT_MAX_BYTES: rotate the file before it would pass this size; 0 never rotates. */
  maxBytes: number;
}

/**
 * Reads the HMAC key file: a regular file, readable by its owner only (0600 or 0400), at least
 * MIN_AUDIT_HMAC_KEY_BYTES long. Errors name AUDIT_HMAC_KEY_FILE and never quote the content.
 */
export function readAuditHmacKey(file: string): Buffer {
  const fail = (reason: string) => new ConfigError('AUDIT_HMAC_KEY_FILE', `${file} ${reason}`);
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw fail('is not a regular file');
    if ((stat.mode & 0o077) !== 0) {
      throw fail(`is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    if (stat.size > MAX_KEY_FILE_BYTES) throw fail(`is larger than ${MAX_KEY_FILE_BYTES} bytes; it should hold only the key`);
    const buffer = Buffer.alloc(stat.size);
    const read = stat.size === 0 ? 0 : readSync(fd, buffer, 0, stat.size, 0);
    const key = Buffer.from(buffer.subarray(0, read).toString('utf8').trim(), 'utf8');
    if (key.length < MIN_AUDIT_HMAC_KEY_BYTES) {
      throw fail(`holds ${key.length} bytes; at least ${MIN_AUDIT_HMAC_KEY_BYTES} are needed (e.g. openssl rand -hex 32)`);
    }
    return key;
  } finally {
    closeSync(fd);
  }
}

/** The audit settings; every bad one is collected and thrown together, each naming its setting. */
export function auditSettings(env: Env, cwd: string): AuditSettings {
  const problems = new ConfigProblems();
  const dataDir = path.resolve(cwd, str(env, 'DATA_DIR') ?? 'data');
  const raw = str(env, 'AUDIT_LOG');
  const file = raw === undefined ? path.join(dataDir, 'audit.log') : raw === AUDIT_STDOUT ? AUDIT_STDOUT : path.resolve(cwd, raw);
  const includeEmail = problems.read(() => bool(env, 'AUDIT_INCLUDE_EMAIL', false), false);
  const maxBytes = problems.read(() => {
    const value = int(env, 'AUDIT_MAX_BYTES', DEFAULT_AUDIT_MAX_BYTES, 0, AUDIT_MAX_BYTES_BOUNDS.max);
    if (value !== 0 && value < AUDIT_MAX_BYTES_BOUNDS.min) {
      throw new ConfigError('AUDIT_MAX_BYTES', `must be 0 (never rotate) or at least ${AUDIT_MAX_BYTES_BOUNDS.min}, got ${value}`);
    }
    return value;
  }, DEFAULT_AUDIT_MAX_BYTES);
  const keyFileRaw = str(env, 'AUDIT_HMAC_KEY_FILE');
  if (keyFileRaw === undefined && env.AUDIT_HMAC_KEY_FILE !== undefined) {
    problems.add(new ConfigError('AUDIT_HMAC_KEY_FILE', 'is set but empty'));
  }
  const hmacKeyFile = keyFileRaw === undefined ? undefined : path.resolve(cwd, keyFileRaw);
  const hmacKey = hmacKeyFile === undefined ? undefined : problems.read(() => readAuditHmacKey(hmacKeyFile), undefined);
  problems.throwIfAny();
  return {
    file,
    includeEmail,
    maxBytes,
    ...(hmacKey !== undefined ? { hmacKey, hmacKeyFile } : {}),
  };
}
