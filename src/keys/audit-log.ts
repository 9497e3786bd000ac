import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';

/** One line of the audit trail of key management (JSON Lines). Never key material. */
export interface AuditEntry {
  /** ISO 8601. */
  time: string;
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

/** Appends an entry to the audit log (created 0600, its folder 0700 when missing). */
export function appendAuditEntry(file: string, entry: AuditEntry): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
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
