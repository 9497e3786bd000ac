import pino from 'pino';
import { loadConfig } from '../config';
import { createGoogleVault } from '../compose/vault';
import { UsageError } from '../errors';
import { type CliIo, oneLineReason } from './io';

export const VAULT_USAGE = [
  'usage: npm run vault -- <command>',
  '  list            every linked user: uid, scopes, created, updated, last used (never a token)',
  '  unlink <uid>    revoke the user\'s refresh token at Google, then delete the row',
].join('\n');

export type VaultCliIo = CliIo;

type Parsed = { command: 'list' } | { command: 'unlink'; uid: string };

export function parseVaultArgs(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command === 'list' && rest.length === 0) return { command: 'list' };
  if (command === 'unlink' && rest.length === 1 && !(rest[0] as string).startsWith('--')) return { command: 'unlink', uid: rest[0] as string };
  throw new UsageError(command === undefined ? 'no command given' : `cannot understand "${argv.join(' ')}"`);
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

/** Runs one vault admin command (0 ok, 1 failed, 2 usage, 78 config). */
export async function runVaultCli(argv: readonly string[], io: VaultCliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseVaultArgs(argv);
  } catch (err) {
    io.stderr(`vault: ${(err as Error).message}`);
    io.stderr(VAULT_USAGE);
    return 2;
  }
  let vault;
  try {
    vault = await createGoogleVault(loadConfig(io.env, io.cwd), { fetch: io.fetch, clock: io.clock, logger: pino({ level: 'silent' }) });
  } catch (err) {
    io.stderr(`vault: cannot open the vault: ${oneLineReason(err)}`);
    return 78;
  }
  try {
    if (parsed.command === 'list') {
      io.stdout('uid\tscopes\tcreated\tupdated\tlast used');
      let after: string | undefined;
      for (;;) {
        const page = await vault.list(500, after);
        for (const row of page) {
          io.stdout([row.uid, row.scopes.join(' '), iso(row.createdAt), iso(row.updatedAt), iso(row.lastUsedAt)].join('\t'));
        }
        if (page.length < 500) break;
        after = page[page.length - 1]?.uid;
      }
      return 0;
    }
    const existed = await vault.unlink(parsed.uid);
    io.stdout(existed ? `unlinked ${parsed.uid} (revoked at Google, row deleted)` : `${parsed.uid} was not linked`);
    return 0;
  } catch (err) {
    io.stderr(`vault: ${parsed.command} failed: ${oneLineReason(err)}`);
    return 1;
  } finally {
    await vault.close();
  }
}
