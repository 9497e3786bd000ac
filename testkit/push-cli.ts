import { runPushCli } from '../src/cli/push';
import type { CliRun } from './keys-cli';

/** Runs `npm run push -- <argv>` in-process (the script is a thin wrapper over runPushCli). */
export async function pushCli(argv: string[], env: Record<string, string>): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runPushCli(argv, {
    env: { HOME: '/nonexistent-home', ...env },
    cwd: process.cwd(),
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    fetch: globalThis.fetch,
    clock: Date.now,
  });
  return { code, stdout, stderr };
}
