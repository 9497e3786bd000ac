import type { Clock } from '../clock';
import { KeyAdminError, VaultIntegrityError } from '../errors';
import { type DataKeyFile, dataKeysOf, newDataKeyEntry, readDataKeyFile, serializeDataKeyFile } from './data-keys';
import { type DataKey, keyCheck, open, seal } from './envelope';
import type { VaultRepository } from './repository';

/** One step of a command, for the audit log (the CLI appends it). Never key material. */
export interface VaultKeyStep {
  command: string;
  kid?: string;
  detail: string;
}

export interface VaultKeyAdminDeps {
  keysFile: string;
  clock: Clock;
  /** Writes the key file 0600, atomically (src/keys/atomic-write.ts). */
  write: (file: string, text: string) => void;
  exists: (file: string) => boolean;
  /** Appends the step to the audit log (awaited: a step that cannot be audited stops the command). */
  audit: (step: VaultKeyStep) => void | Promise<void>;
}

/** `vault-key create`: the first data key. Refuses to replace a file (its keys seal rows). */
export function createDataKeyFile(deps: VaultKeyAdminDeps): { kid: string; message: string } {
  if (deps.exists(deps.keysFile)) {
    throw new KeyAdminError(`${deps.keysFile} already exists; use \`vault-key rotate\` to make a new key`);
  }
  const entry = newDataKeyEntry(deps.clock);
  deps.write(deps.keysFile, serializeDataKeyFile({ version: 1, active: entry.id, keys: [entry] }));
  return { kid: entry.id, message: `created ${deps.keysFile} with data key ${entry.id}` };
}

export interface RotationDeps extends VaultKeyAdminDeps {
  repository: VaultRepository;
  /** Rows re-encrypted per batch. */
  batchSize?: number;
  /** Waited after the new key file is written, so every server has reloaded it (they check every second). */
  reloadGraceMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RotationResult {
  kid: string;
  reencrypted: number;
  retired: string[];
  message: string;
}

/**
 * `vault-key rotate`: (1) a new active key is added beside the old ones (servers hot-reload the file
 * and read both); (2) every row under another key is re-encrypted in batches, each replaced only if
 * unchanged since it was read (a concurrent link wins, and is already under the new key); (3) when no
 * row is left under an old key, the old keys are removed from the file. Resumable: run again after a
 * crash and it continues with the active key (no new one) from step 2. Every step is audited.
 */
export async function rotateDataKeys(deps: RotationDeps): Promise<RotationResult> {
  const batchSize = deps.batchSize ?? 200;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let file: DataKeyFile = readDataKeyFile(deps.keysFile);
  if (file.keys.length === 1) {
    const entry = newDataKeyEntry(deps.clock);
    file = { version: 1, active: entry.id, keys: [...file.keys, entry] };
    const key: DataKey = { id: entry.id, key: Buffer.from(entry.key, 'base64') };
    await deps.repository.recordKeyCheck(key.id, keyCheck(key));
    deps.write(deps.keysFile, serializeDataKeyFile(file));
    await deps.audit({ command: 'vault-key rotate', kid: entry.id, detail: `new active data key ${entry.id}; old keys still read` });
  } else {
    await deps.audit({ command: 'vault-key rotate', kid: file.active, detail: `resuming the rotation to ${file.active}` });
  }
  await sleep(deps.reloadGraceMs ?? 2500);
  const keys = dataKeysOf(file);
  const active = keys.active();
  let reencrypted = 0;
  const broken = new Set<string>();
  // Passes until one finds nothing left (a lagging server may still have sealed a row under an old key).
  for (let pass = 0; pass < 10; pass += 1) {
    let cursor = '';
    let found = 0;
    for (;;) {
      const rows = await deps.repository.rowsNotUnder(active.id, batchSize, cursor);
      if (rows.length === 0) break;
      let done = 0;
      for (const row of rows) {
        cursor = row.uid;
        if (broken.has(row.uid)) continue;
        found += 1;
        const key = keys.byId(row.envelope.keyId);
        let plaintext: string;
        try {
          if (!key) throw new VaultIntegrityError(`no key ${row.envelope.keyId}`);
          plaintext = open(key, row.uid, row.envelope);
        } catch {
          broken.add(row.uid);
          continue;
        }
        if (await deps.repository.replaceEnvelope(row.uid, row.envelope, seal(active, row.uid, plaintext))) done += 1;
      }
      reencrypted += done;
      if (done > 0) await deps.audit({ command: 'vault-key rotate', kid: active.id, detail: `re-encrypted ${done} rows (${reencrypted} so far)` });
    }
    if (found === 0) break;
  }
  if (broken.size > 0) {
    const uids = [...broken].slice(0, 20).join(', ');
    throw new KeyAdminError(
      `${broken.size} vault rows do not decrypt (${uids}); old keys kept. Unlink them (npm run vault -- unlink <uid>) and run vault-key rotate again`,
    );
  }
  if ((await deps.repository.rowsNotUnder(active.id, 1)).length > 0) {
    throw new KeyAdminError('rows are still being sealed under an old key (a server has not reloaded the key file?); old keys kept, run vault-key rotate again');
  }
  const retired = file.keys.filter((k) => k.id !== active.id).map((k) => k.id);
  deps.write(deps.keysFile, serializeDataKeyFile({ version: 1, active: active.id, keys: file.keys.filter((k) => k.id === active.id) }));
  await deps.audit({ command: 'vault-key rotate', kid: active.id, detail: `retired ${retired.join(', ')}` });
  return { kid: active.id, reencrypted, retired, message: `data key ${active.id} is active; ${reencrypted} rows re-encrypted; retired ${retired.join(', ')}` };
}
