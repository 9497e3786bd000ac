import { FakeGoogle } from '../../testkit/fake-google';
import { keysDirWith } from '../../testkit/harness';
import { runScript } from '../../testkit/spawn-server';

const runKeysScript = (args: string[], env: Record<string, string>) => runScript('keys', args, env);

describe('scripts/keys.ts (what `npm run keys` runs)', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('lists, and refuses to retire the signing key with one line and a non-zero exit', async () => {
    const account = fake.createServiceAccount();
    const env = { KEYS_DIR: keysDirWith(account), FIREBASE_PROJECT_ID: fake.projectId };
    const list = await runKeysScript(['list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`* signing  ${account.key.kid}`);
    const retire = await runKeysScript(['retire', account.key.kid], env);
    expect(retire.code).toBe(1);
    expect(retire.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^keys: retire failed: key \S+ is the signing key and cannot be retired/)]);
  });
});
