import { userInfo } from 'node:os';
import pino, { type Logger } from 'pino';
import type { AuditFs } from '../audit/audit-fs';
import { ChainWriter } from '../audit/chain-writer';
import type { Clock } from '../clock';
import type { KeysAdminConfig } from '../config';

/** One event of the audit trail of key management (`keys.command`). Never key material. */
export interface AuditEntry {
  /** e.g. "rotate --from", "retire --delete-remote". */
  command: string;
  /** The key the command acted on, when known. */
  kid?: string;
  /** OS user, plus the ADC account when known: "alice (alice@example.com)". */
  who: string;
  outcome: 'ok' | 'failed';
  /** What happened, or why it failed (one line). */
  detail?: string;
}

/**
 * The keys script's audit log (KEYS_AUDIT_LOG): the same hash chain as the server's trail (src/audit),
 * with AUDIT_HMAC_KEY_FILE's key and AUDIT_MAX_BYTES' rotation; written when the script appends, never later.
 */
export function keysAuditLog(config: Pick<KeysAdminConfig, 'auditLog' | 'auditChain'>, clock: Clock, fs?: AuditFs, logger?: Logger): ChainWriter {
  return new ChainWriter({
    file: config.auditLog,
    ...(config.auditChain.hmacKey !== undefined ? { hmacKey: config.auditChain.hmacKey } : {}),
    // The operator's ADC account in `who` is the point of this log; no user email is ever in it.
    includeEmail: config.auditChain.includeEmail,
    maxBytes: config.auditChain.maxBytes,
    clock,
    logger: logger ?? pino({ level: 'silent' }),
    autoFlush: false,
    ...(fs !== undefined ? { fs } : {}),
  });
}

/** Appends an entry and writes it now (file 0600, its folder 0700 when missing). False when it could not be written. */
export async function appendAuditEntry(log: ChainWriter, entry: AuditEntry): Promise<boolean> {
  log.record({ event: 'keys.command', command: entry.command, kid: entry.kid, who: entry.who, outcome: entry.outcome, detail: entry.detail });
  return log.flush();
}

/** Who runs the command: the OS user name and, where known, the Google account of ADC. */
export function describeOperator(adcAccount: string | undefined): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return adcAccount ? `${user} (${adcAccount})` : user;
}
