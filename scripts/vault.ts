/**
 * `npm run vault -- list | unlink <uid>`: the refresh-token vault's admin commands. A thin wrapper:
 * the commands live in src/cli/vault.ts and are tested there.
 */
import { readEnvironment } from '../src/config';
import { runVaultCli } from '../src/cli/vault';

runVaultCli(process.argv.slice(2), {
  env: readEnvironment(),
  cwd: process.cwd(),
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  fetch: globalThis.fetch,
  clock: Date.now,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vault: unexpected ${(err as Error).name ?? 'error'}\n`);
    process.exitCode = 1;
  },
);
