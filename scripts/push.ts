/**
 * `npm run push -- send --token <device token> --title T --body B [--data k=v]... [--dry-run]`:
 * one FCM HTTP v1 message with the bridge's own client, to check the FCM setup from a shell. A
 * thin wrapper: the command lives in src/cli/push.ts and is tested there.
 */
import { readEnvironment } from '../src/config';
import { runPushCli } from '../src/cli/push';

runPushCli(process.argv.slice(2), {
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
    process.stderr.write(`push: unexpected ${(err as Error).name ?? 'error'}\n`);
    process.exitCode = 1;
  },
);
