import path from 'node:path';
import { type AuditSettings, loadAuditCliConfig } from '../config';
import { AUDIT_STDOUT } from '../config/audit';
import { UsageError } from '../errors';
import { verifyChain } from '../audit/verify';
import { type CliIo, oneLineReason } from './io';

export const AUDIT_USAGE = [
  'usage: npm run audit -- <command>',
  '  verify [file] [--no-head] [--mixed] [--pruned]',
  '                              check the hash chain of the audit log (default AUDIT_LOG; with its rotated',
  '                              files <file>.1, <file>.2, ... and its head file <file>.head); names the first',
  '                              broken line. An HMAC chain needs AUDIT_HMAC_KEY_FILE. --no-head: a chain',
  '                              captured from stdout (AUDIT_LOG=-), which has no head file; --mixed: that',
  '                              capture also holds the server\'s other log lines (skipped; implies --no-head);',
  '                              --pruned: older rotated files were archived or deleted on purpose (the check',
  '                              starts at the oldest file left, trusting its first line\'s link to the removed ones)',
].join('\n');

type Parsed = { command: 'verify'; file?: string; noHead: boolean; mixed: boolean; pruned: boolean };

export function parseAuditArgs(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== 'verify') throw new UsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  const flags = rest.filter((a) => a.startsWith('--'));
  const positional = rest.filter((a) => !a.startsWith('--'));
  const bad = flags.find((f) => f !== '--no-head' && f !== '--mixed' && f !== '--pruned');
  if (bad) throw new UsageError(`unknown option ${bad} for verify`);
  if (positional.length > 1) throw new UsageError('verify takes at most one file');
  const mixed = flags.includes('--mixed');
  return { command: 'verify', ...(positional[0] !== undefined ? { file: positional[0] } : {}), noHead: mixed || flags.includes('--no-head'), mixed, pruned: flags.includes('--pruned') };
}

/** `npm run audit -- verify [file]`: 0 the chain holds, 1 broken (or unreadable), 2 usage, 78 configuration. */
export async function runAuditCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseAuditArgs(argv);
  } catch (err) {
    io.stderr(`audit: ${(err as Error).message}`);
    io.stderr(AUDIT_USAGE);
    return 2;
  }
  let settings: AuditSettings;
  try {
    settings = loadAuditCliConfig(io.env, io.cwd);
  } catch (err) {
    io.stderr(`audit: invalid configuration: ${oneLineReason(err)}`);
    return 78;
  }
  const file = parsed.file !== undefined ? path.resolve(io.cwd, parsed.file) : settings.file;
  if (file === AUDIT_STDOUT) {
    io.stderr('audit: AUDIT_LOG is "-" (stdout): name the file the lines were collected in (with --no-head, or --mixed)');
    return 2;
  }
  let result;
  try {
    result = await verifyChain(file, { ...(settings.hmacKey ? { hmacKey: settings.hmacKey } : {}), noHead: parsed.noHead, mixed: parsed.mixed, pruned: parsed.pruned });
  } catch (err) {
    io.stderr(`audit: cannot read ${file}: ${oneLineReason(err)}`);
    return 1;
  }
  const chain = settings.hmacKey ? 'HMAC-SHA256' : 'SHA-256';
  if (result.broken) {
    const { broken } = result;
    io.stdout(`audit: BROKEN at ${broken.file}${broken.line > 0 ? `:${broken.line}` : ''}: ${broken.reason}`);
    io.stdout(`audit: ${result.lines} lines verified before it (${chain} chain, ${result.files.length} files)`);
    return 1;
  }
  io.stdout(
    `audit: ok: ${result.lines} lines, seq ${result.firstSeq}..${result.lastSeq}, ${result.files.length} file${result.files.length === 1 ? '' : 's'}` +
      ` (${chain} chain${parsed.noHead ? ', head not checked' : ', head file matches'}` +
      `${result.firstSeq > 1 ? `; seq 1..${result.firstSeq - 1} pruned, not checked` : ''})`,
  );
  for (const name of result.files) io.stdout(`  ${name}`);
  return 0;
}
