import type { AuditLog } from '../audit/audit-trail';
import { ChainWriter } from '../audit/chain-writer';
import type { AuditSettings } from '../config';
import type { Runtime } from './verifiers';

/** The server's audit trail from its settings (AUDIT_LOG, AUDIT_HMAC_KEY_FILE, AUDIT_INCLUDE_EMAIL, AUDIT_MAX_BYTES). */
export function createAuditLog(settings: AuditSettings, runtime: Pick<Runtime, 'logger' | 'clock'>): AuditLog {
  return new ChainWriter({
    file: settings.file,
    ...(settings.hmacKey !== undefined ? { hmacKey: settings.hmacKey } : {}),
    includeEmail: settings.includeEmail,
    maxBytes: settings.maxBytes,
    clock: runtime.clock,
    logger: runtime.logger,
  });
}
