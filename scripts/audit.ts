/**
 * `npm run audit -- verify [file]`: checks the audit trail's hash chain. A thin wrapper: the command
 * lives in src/cli/audit.ts (and src/audit/verify.ts) and is tested there.
 */
import { runAuditCli } from '../src/cli/audit';
import { runFromShell } from '../src/cli/io';

runFromShell('audit', runAuditCli);
