import type { Clock } from '../clock';
import { readEnvironment } from '../config';
import type { Env } from '../config/parse';
import { FirebridgeError } from '../errors';
import type { FetchFn } from '../outbound/fetch';

/** What an admin command gets from its shell (or a test): settings, output, and the injected fetch and clock. */
export interface CliIo {
  env: Env;
  cwd: string;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  fetch: FetchFn;
  clock: Clock;
}

/**
 * A one-line reason that can never carry a key, token or code: firebridge's own errors say what went
 * wrong without secrets; anything else is named, not quoted (with its errno code when it has one).
 */
export function oneLineReason(err: unknown): string {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const text =
    err instanceof FirebridgeError
      ? err.message
      : `unexpected ${(err as Error | undefined)?.name ?? 'error'}${typeof errno === 'string' ? ` (${errno})` : ''}`;
  return text.replace(/\s+/g, ' ').trim();
}

/** Runs a command from `npm run <name> -- ...` with the process's environment and streams; sets the exit code. */
export function runFromShell(name: string, run: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  run(process.argv.slice(2), {
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
      process.stderr.write(`${name}: ${oneLineReason(err)}\n`);
      process.exitCode = 1;
    },
  );
}
