/**
 * `npm run keys -- <command>`: key management for KEYS_DIR. A thin wrapper: the commands live in
 * src/keys/admin-commands.ts and src/cli/keys.ts and are tested there.
 */
import { readEnvironment } from '../src/config';
import { runKeysCli } from '../src/cli/keys';

runKeysCli(process.argv.slice(2), {
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
    process.stderr.write(`keys: unexpected ${(err as Error).name ?? 'error'}\n`);
    process.exitCode = 1;
  },
);
