import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePushArgs } from '../../src/cli/push';
import { UsageError } from '../../src/errors';
import { FakeFcm } from '../../testkit/fake-fcm';
import { FakeGoogle, type TestServiceAccount } from '../../testkit/fake-google';
import { FakeIam } from '../../testkit/fake-iam';
import { keysDirWith } from '../../testkit/harness';
import { pushCli } from '../../testkit/push-cli';

const ROOT = path.resolve(__dirname, '../..');
const DEVICE = 'cli-device-token-0123456789';

/** `npm run push -- send ...`: one message with the bridge's FCM client, against the fake IAM and FCM. */
describe('the push CLI', () => {
  let google: FakeGoogle;
  let iam: FakeIam;
  let fcm: FakeFcm;
  let account: TestServiceAccount;
  let env: Record<string, string>;
  beforeAll(async () => {
    google = await FakeGoogle.start();
    iam = await FakeIam.start(google);
    fcm = await FakeFcm.start(iam, google.projectId);
    account = google.createServiceAccount(google.projectId, 'push-cli');
    iam.addKey(account.clientEmail, account.key);
    env = { FIREBASE_PROJECT_ID: google.projectId, KEYS_DIR: keysDirWith(account), GOOGLE_TOKEN_URL: iam.tokenUrl, FCM_API_URL: fcm.url };
  });
  afterAll(async () => {
    await Promise.all([fcm.close(), iam.close(), google.close()]);
  });
  beforeEach(() => {
    fcm.requests.length = 0;
    fcm.faults.length = 0;
  });

  it('send: the signing key\'s token for firebase.messaging, a notification and every --data pair; prints the name, not the device token', async () => {
    const run = await pushCli(['send', '--token', DEVICE, '--title', 'Hello', '--body', 'from the CLI', '--data', 'a=1', '--data', 'b=x=y'], env);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toMatch(new RegExp(`^sent: projects/${google.projectId}/messages/0:`));
    expect(run.stdout[1]).toContain(account.key.kid);
    expect(fcm.requests.map((r) => r.body)).toEqual([
      { message: { token: DEVICE, notification: { title: 'Hello', body: 'from the CLI' }, data: { a: '1', b: 'x=y' } } },
    ]);
    expect([...run.stdout, ...run.stderr].join('\n')).not.toContain(DEVICE);
  });

  it('--dry-run is FCM\'s validate_only', async () => {
    const run = await pushCli(['send', '--token', DEVICE, '--title', 'T', '--body', 'B', '--dry-run'], env);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toBe(`validated (dry run, nothing delivered): projects/${google.projectId}/messages/fake_message_id`);
    expect(fcm.requests[0]?.body).toMatchObject({ validate_only: true });
  });

  it('an UNREGISTERED token: exit 1 and one line naming the reason', async () => {
    fcm.faults.push('UNREGISTERED');
    const run = await pushCli(['send', '--token', DEVICE, '--title', 'T', '--body', 'B'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toEqual([expect.stringMatching(/^push: send failed \(unregistered\): FCM HTTP 404 UNREGISTERED/)]);
  });

  it('keyless: with no key file in KEYS_DIR, Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-pushcli-'));
    const credentials = path.join(dir, 'adc.json');
    writeFileSync(credentials, JSON.stringify(account.json), { mode: 0o600 });
    const run = await pushCli(['send', '--token', DEVICE, '--data', 'k=v'], { ...env, KEYS_DIR: path.join(dir, 'empty'), GOOGLE_APPLICATION_CREDENTIALS: credentials });
    expect(run.code).toBe(0);
    expect(run.stdout[1]).toMatch(/Application Default Credentials \(service_account from /);
    expect(fcm.requests[0]?.body).toEqual({ message: { token: DEVICE, data: { k: 'v' } } });
  });

  it('usage errors exit 2 with the usage; a bad configuration exits 78 naming the setting', async () => {
    for (const argv of [[], ['sned'], ['send'], ['send', '--token'], ['send', '--token', 't'], ['send', '--token', 't', '--data', 'novalue'], ['send', '--token', 't', '--title', 'a', '--colour', 'x']]) {
      const run = await pushCli(argv, env);
      expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
      expect(run.stderr.join('\n')).toContain('usage: npm run push -- send --token');
    }
    const config = await pushCli(['send', '--token', 't', '--title', 'a'], { ...env, FIREBASE_PROJECT_ID: '', FCM_MAX_RETRIES: 'many' });
    expect(config.code).toBe(78);
    expect(config.stderr[0]).toMatch(/^push: invalid configuration: .*FIREBASE_PROJECT_ID.*FCM_MAX_RETRIES/s);
    expect(fcm.requests).toHaveLength(0);
  });

  it('parses repeated --data into pairs and refuses a pair given twice', () => {
    expect(parsePushArgs(['send', '--token', 't', '--data', 'a=1', '--data', 'c=', '--dry-run'])).toEqual({ token: 't', data: { a: '1', c: '' }, dryRun: true });
    expect(() => parsePushArgs(['send', '--token', 't', '--data', 'a=1', '--data', 'a=2'])).toThrow(UsageError);
  });

  it('scripts/push.ts (what `npm run push` runs) sends and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/push.ts'), 'send', '--token', DEVICE, '--title', 'T', '--body', 'B'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^sent: projects\//);
    expect(fcm.requests).toHaveLength(1);
  }, 30_000);
});
