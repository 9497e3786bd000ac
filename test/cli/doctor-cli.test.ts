import { chmodSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CHECKS } from '../../src/doctor/run-doctor';
import { type DoctorFakes, startDoctorFakes } from '../../testkit/doctor';
import { runScript } from '../../testkit/spawn-server';

/** `npm run doctor -- <argv>` as a process: scripts/doctor.ts with only `env` (and PATH). */
const doctor = (argv: string[], env: Record<string, string>) => runScript('doctor', argv, env);

/** `npm run doctor`: exit 0 / 1 / 2 and the --json document, spawned against the fakes. */
describe('the doctor CLI', () => {
  let fakes: DoctorFakes;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
  });
  afterAll(() => fakes.close());

  it('a healthy setup: one ✓ line per check, exit 0', async () => {
    const run = await doctor([], fakes.env());
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, CHECKS.length).every((line) => line.startsWith('✓ '))).toBe(true);
    expect(lines.at(-1)).toBe(`all ${CHECKS.length} checks passed`);
    expect(run.code).toBe(0);
  }, 60_000);

  it('--json: {status, exitCode, mode, checks: [{id, name, status, message, fix?, skipped?}]}; a warning exits 1', async () => {
    const env = fakes.env();
    const dir = env.KEYS_DIR as string;
    for (const name of readdirSync(dir)) chmodSync(path.join(dir, name), 0o640);
    const run = await doctor(['--json'], env);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as { status: string; exitCode: number; mode: string; checks: Array<Record<string, unknown>> };
    expect(doc).toMatchObject({ status: 'warn', exitCode: 1, mode: 'configured' });
    expect(doc.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    for (const check of doc.checks) {
      expect(Object.keys(check).every((k) => ['id', 'name', 'status', 'message', 'fix', 'skipped'].includes(k))).toBe(true);
      expect(['ok', 'warn', 'error']).toContain(check.status);
      expect(typeof check.message).toBe('string');
    }
    expect(doc.checks.find((c) => c.id === 'key-files')).toMatchObject({ status: 'warn', fix: expect.stringContaining('chmod 600') });
    expect(doc.checks.find((c) => c.id === 'redis')).toMatchObject({ status: 'ok', skipped: true });
    expect(run.stdout).not.toContain('PRIVATE KEY');
  }, 60_000);

  it('an error (TRUST_PROXY 0.0.0.0/0) exits 2; the other checks still run', async () => {
    const run = await doctor([], fakes.env({ TRUST_PROXY: '0.0.0.0/0' }));
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^✗ unsafe settings: TRUST_PROXY 0\.0\.0\.0\/0 believes/m);
    expect(run.stdout).toMatch(/^✓ FCM: /m);
    expect(run.stdout).toContain('1 error, 0 warnings');
  }, 60_000);

  it('an invalid configuration: one ✗ line per bad setting, exit 2, nothing fetched', async () => {
    const hits = fakes.google.google.hits;
    const run = await doctor(['--json'], fakes.env({ PORT: 'eighty', TRUST_PROXY: 'everyone' }));
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout) as { status: string; checks: Array<{ id: string; status: string; message: string }> };
    expect(doc.status).toBe('error');
    expect(doc.checks.map((c) => [c.id, c.status])).toEqual([
      ['config', 'error'],
      ['config', 'error'],
    ]);
    expect(doc.checks.map((c) => c.message.split(':')[0])).toEqual(['PORT', 'TRUST_PROXY']);
    expect(fakes.google.google.hits).toBe(hits);
  }, 60_000);

  it('an unknown option: the usage on stderr, exit 64; --help: the usage, exit 0', async () => {
    const bad = await doctor(['--jsno'], fakes.env());
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('usage: npm run doctor');
    const help = await doctor(['--help'], fakes.env());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('exit 0 all fine, 1 warnings, 2 errors');
  }, 60_000);
});
