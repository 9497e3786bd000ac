import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { runKeysCli } from '../src/cli/keys';
import type { TestServiceAccount } from './fake-google';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Runs `npm run keys -- <argv>` in-process (the script is a thin wrapper over runKeysCli). */
export async function keysCli(argv: string[], env: Record<string, string>, options: { clock?: () => number } = {}): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runKeysCli(argv, {
    env: { HOME: '/nonexistent-home', ...env },
    cwd: process.cwd(),
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    fetch: globalThis.fetch,
    clock: options.clock ?? Date.now,
  });
  return { code, stdout, stderr };
}

/** A key file for --from, written in a separate temp folder (as an admin's download would be). */
export function downloadedKeyFile(account: TestServiceAccount, content?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-download-'));
  const file = path.join(dir, `${account.projectId}-${account.key.kid}.json`);
  writeFileSync(file, content ?? JSON.stringify(account.json, null, 2), { mode: 0o600 });
  return file;
}

export function auditEntries(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
