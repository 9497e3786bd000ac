import { spawn } from 'node:child_process';
import path from 'node:path';
import { FakeGoogle } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';

const ROOT = path.resolve(__dirname, '../..');

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/keys.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('scripts/keys.ts (what `npm run keys` runs)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('lists, and refuses to retire the signing key with one line and a non-zero exit', async () => {
    const account = fake.createServiceAccount();
    const env = { KEYS_DIR: keysDirWith(account), FIREBASE_PROJECT_ID: fake.projectId };
    const list = await runScript(['list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`* signing  ${account.key.kid}`);
    const retire = await runScript(['retire', account.key.kid], env);
    expect(retire.code).toBe(1);
    expect(retire.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^keys: retire failed: key \S+ is the signing key and cannot be retired/)]);
  });
});
