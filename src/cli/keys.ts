import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type KeysAdminConfig, loadKeysAdminConfig } from '../config';
import { KeyAdminError, UsageError } from '../errors';
import { GoogleApiClient } from '../google/client';
import { ApplicationDefaultCredentials } from '../google/credentials';
import { IamClient } from '../google/iam';
import {
  type CommandResult,
  type KeyAdminDeps,
  activateKey,
  formatKeyList,
  listKeys,
  retireKey,
  rotateCreate,
  rotateFromFile,
} from '../keys/admin-commands';
import { writeFileAtomic } from '../keys/atomic-write';
import type { ChainWriter } from '../audit/chain-writer';
import { appendAuditEntry, describeOperator, keysAuditLog } from '../keys/audit-log';
import { openVaultRepository } from '../compose/vault';
import { type VaultKeyAdminDeps, createDataKeyFile, rotateDataKeys } from '../vault/rotation';
import { type CliIo, oneLineReason } from './io';

export const KEYS_USAGE = [
  'usage: npm run keys -- <command>',
  '  list                          every key: kid, service account, when added, which one signs',
  '  rotate --from <file.json>     install a key file and make it the signing key',
  '  rotate --create               create a key in IAM (your ADC) and make it the signing key',
  '  retire <kid> [--delete-remote] remove a key that no longer signs (and delete it in IAM)',
  '  activate <kid>                make an installed key the signing key (roll back)',
  '  vault-key create              create the vault\'s data key file (VAULT_KEYS_FILE, default KEYS_DIR/vault-keys.json)',
  '  vault-key rotate              new active data key, re-encrypt every vault row, retire the old key (resumable)',
].join('\n');

export type KeysCliIo = CliIo;

type Parsed =
  | { command: 'list' }
  | { command: 'rotate --from'; file: string }
  | { command: 'rotate --create' }
  | { command: 'retire' | 'retire --delete-remote'; kid: string }
  | { command: 'activate'; kid: string }
  | { command: 'vault-key create' | 'vault-key rotate' };

export function parseKeysArgs(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  const flags = rest.filter((a) => a.startsWith('--'));
  const positional = rest.filter((a) => !a.startsWith('--'));
  const only = (allowed: string[]) => {
    const bad = flags.find((f) => !allowed.includes(f));
    if (bad) throw new UsageError(`unknown option ${bad} for ${command}`);
  };
  switch (command) {
    case 'list':
      only([]);
      if (positional.length > 0) throw new UsageError('list takes no arguments');
      return { command: 'list' };
    case 'rotate': {
      only(['--from', '--create']);
      if (flags.includes('--create') && !flags.includes('--from') && positional.length === 0) return { command: 'rotate --create' };
      if (flags.length === 1 && flags[0] === '--from' && rest[0] === '--from' && positional.length === 1) {
        return { command: 'rotate --from', file: positional[0] as string };
      }
      throw new UsageError('rotate needs either --from <file.json> or --create');
    }
    case 'retire':
      only(['--delete-remote']);
      if (positional.length !== 1) throw new UsageError('retire needs exactly one kid');
      return { command: flags.includes('--delete-remote') ? 'retire --delete-remote' : 'retire', kid: positional[0] as string };
    case 'activate':
      only([]);
      if (positional.length !== 1) throw new UsageError('activate needs exactly one kid');
      return { command: 'activate', kid: positional[0] as string };
    case 'vault-key': {
      only([]);
      const [action, ...extra] = positional;
      if (extra.length > 0 || (action !== 'create' && action !== 'rotate')) throw new UsageError('vault-key needs create or rotate');
      return { command: `vault-key ${action}` };
    }
    default:
      throw new UsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
  }
}


/** Runs one admin command: output, audit entry, exit code (0 ok, 1 failed or refused, 2 usage, 78 config). */
export async function runKeysCli(argv: readonly string[], io: KeysCliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseKeysArgs(argv);
  } catch (err) {
    io.stderr(`keys: ${(err as Error).message}`);
    io.stderr(KEYS_USAGE);
    return 2;
  }
  let config: KeysAdminConfig;
  try {
    config = loadKeysAdminConfig(io.env, io.cwd);
  } catch (err) {
    io.stderr(`keys: invalid configuration: ${oneLineReason(err)}`);
    return 78;
  }
  let adc: ApplicationDefaultCredentials | undefined;
  const adcFor = () => (adc ??= new ApplicationDefaultCredentials({ config, fetch: io.fetch, clock: io.clock }));
  const fileBasedAdc =
    config.credentialsFile !== undefined || (config.wellKnownCredentialsFile !== undefined && existsSync(config.wellKnownCredentialsFile));
  // The ADC account is looked up when it costs no network call, or when IAM was used anyway.
  const operator = async () => describeOperator(adc || fileBasedAdc ? await adcFor().accountEmail() : undefined);
  const deps: KeyAdminDeps = {
    config,
    clock: io.clock,
    iam: () => new IamClient(new GoogleApiClient({ tokens: adcFor(), fetch: io.fetch, clock: io.clock, timeoutMs: config.timeoutMs }), config.iamApiUrl),
    operator: await operator(),
  };
  const kidOf = 'kid' in parsed ? parsed.kid : undefined;
  const log = keysAuditLog(config, io.clock);
  let result: CommandResult;
  try {
    switch (parsed.command) {
      case 'list': {
        for (const line of formatKeyList(listKeys(deps))) io.stdout(line);
        result = { message: 'listed' };
        break;
      }
      case 'rotate --from':
        result = rotateFromFile(deps, parsed.file);
        break;
      case 'rotate --create':
        result = await rotateCreate(deps);
        break;
      case 'retire':
      case 'retire --delete-remote':
        result = await retireKey(deps, parsed.kid, { deleteRemote: parsed.command === 'retire --delete-remote' });
        break;
      case 'activate':
        result = activateKey(deps, parsed.kid);
        break;
      case 'vault-key create':
      case 'vault-key rotate':
        result = await vaultKeyCommand(parsed.command, io, config, deps.operator, log);
        break;
    }
  } catch (err) {
    const reason = oneLineReason(err);
    io.stderr(`keys: ${parsed.command} failed: ${reason}`);
    await audit(io, log, { command: parsed.command, kid: kidOf, who: await operator(), outcome: 'failed', detail: reason });
    return 1;
  }
  if (parsed.command !== 'list') io.stdout(result.message);
  return (await audit(io, log, { command: parsed.command, kid: result.kid ?? kidOf, who: await operator(), outcome: 'ok', detail: result.message }))
    ? 0
    : 1;
}

async function audit(
  io: KeysCliIo,
  log: ChainWriter,
  entry: { command: string; kid?: string; who: string; outcome: 'ok' | 'failed'; detail: string },
): Promise<boolean> {
  if (await appendAuditEntry(log, entry)) return true;
  io.stderr(`keys: cannot append to the audit log ${log.file} (${log.status().error ?? 'error'})`);
  return false;
}

/** `vault-key create | rotate`: the vault's data keys, written 0600 and atomically; rotate audits each step. */
async function vaultKeyCommand(
  command: 'vault-key create' | 'vault-key rotate',
  io: KeysCliIo,
  config: KeysAdminConfig,
  who: string,
  log: ChainWriter,
): Promise<CommandResult> {
  const base: VaultKeyAdminDeps = {
    keysFile: config.vaultKeysFile,
    clock: io.clock,
    write: (file, text) => {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, text);
    },
    exists: (file) => existsSync(file),
    audit: async (step) => {
      if (!(await audit(io, log, { ...step, who, outcome: 'ok' }))) throw new KeyAdminError('the audit log cannot be written; stopped');
      io.stdout(step.detail);
    },
  };
  if (command === 'vault-key create') return createDataKeyFile(base);
  const repository = openVaultRepository(config);
  try {
    await repository.migrate();
    return await rotateDataKeys({ ...base, repository });
  } finally {
    await repository.close();
  }
}
