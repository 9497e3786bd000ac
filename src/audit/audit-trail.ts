import { FirebridgeError } from '../errors';

/**
 * The audit port: what rules, routes and scripts call to record a security event. The chain writer
 * (./chain-writer.ts) implements it; events never carry a token, code or key (the writer also drops
 * such fields, and emails unless AUDIT_INCLUDE_EMAIL=true).
 */

/** A field's value: a short string, a number, a boolean, or a list of strings (kids, scopes). */
export type AuditValue = string | number | boolean | readonly string[];

/** One security event: its name (e.g. `token.exchange`) and flat fields. */
export interface AuditEvent {
  event: string;
  [field: string]: AuditValue | undefined;
}

export interface AuditTrail {
  /** Queues the event; never blocks, never throws (a write failure is reported by status()). */
  record(event: AuditEvent): void;
}

/** What /readyz reports of the trail. */
export interface AuditStatus {
  /** The file, or '-' for stdout. */
  file: string;
  /** False while the last write failed (full disk, removed folder, read-only file system). */
  writable: boolean;
  /** The errno code of the last failed write, while it is failing. */
  error?: string;
  /** Events queued, not yet written. */
  pending: number;
  /** Events dropped because the queue was full (since start). */
  dropped: number;
  /** The sequence number of the last line written (0: none yet). */
  lastSeq: number;
}

/** A trail that records nothing (library users who did not ask for one). */
export const NO_AUDIT: AuditTrail = { record: () => undefined };

/** The trail as the server holds it: record, plus what /readyz and shutdown need. */
export interface AuditLog extends AuditTrail {
  status(): AuditStatus;
  /** Writes what is queued; true when all of it got written. */
  flush(): Promise<boolean>;
  /** The last flush (shutdown). */
  close(): Promise<boolean>;
}

/**
 * How a refused or failed step is audited: `refused` (the caller's fault: a 4xx) or `failed` (ours: a
 * 5xx), with the error's code as `reason` (`unexpected` for anything not a firebridge error). Never its message.
 */
export function auditFailure(err: unknown): { outcome: 'refused' | 'failed'; reason: string } {
  if (err instanceof FirebridgeError) return { outcome: err.status < 500 ? 'refused' : 'failed', reason: err.code };
  return { outcome: 'failed', reason: 'unexpected' };
}
