import pino from 'pino';
import { loadConfig } from '../../src/config';
import { type DoctorCheck, type DoctorContext, fail, ok, warn } from '../../src/doctor/check';
import { configProblemsReport, formatJson, formatText } from '../../src/doctor/report';
import { CHECKS, runDoctor } from '../../src/doctor/run-doctor';
import { ConfigError } from '../../src/errors';
import { type DoctorFakes, startDoctorFakes } from '../../testkit/doctor';

/** A check of the given behaviour. */
function timedCheck(id: string, run: () => Promise<ReturnType<typeof ok>>): DoctorCheck {
  return { id, name: id, run };
}

describe('doctor: the runner and its reports', () => {
  let fakes: DoctorFakes;
  let context: DoctorContext;
  beforeAll(async () => {
    fakes = await startDoctorFakes();
    context = { config: loadConfig(fakes.env()), fetch: globalThis.fetch, clock: Date.now, logger: pino({ level: 'silent' }) };
  });
  afterAll(() => fakes.close());

  it('checks are independent: one throwing or hanging never stops the others; results keep the checks\' order', async () => {
    const checks: DoctorCheck[] = [
      timedCheck('throws', async () => {
        throw new TypeError('boom');
      }),
      timedCheck('hangs', () => new Promise(() => undefined)),
      timedCheck('fine', async () => ok('fine')),
      timedCheck('warns', async () => warn('hmm', 'do this')),
    ];
    const report = await runDoctor(context, { checks, deadlineMs: 300 });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['throws', 'error'],
      ['hangs', 'error'],
      ['fine', 'ok'],
      ['warns', 'warn'],
    ]);
    expect(report.checks[0]?.message).toBe('the check itself failed: TypeError');
    expect(report.checks[1]?.message).toBe('did not finish within 300 ms');
    expect(report).toMatchObject({ status: 'error', exitCode: 2, mode: 'configured' });
  });

  it('bounded concurrency: never more than `concurrency` checks at once, and all of them run', async () => {
    let running = 0;
    let most = 0;
    const checks = Array.from({ length: 9 }, (_, i) =>
      timedCheck(`c${i}`, async () => {
        running += 1;
        most = Math.max(most, running);
        // Yield a few turns so other workers would start if they could.
        for (let t = 0; t < 5; t++) await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        return ok('done');
      }),
    );
    const report = await runDoctor(context, { checks, concurrency: 3 });
    expect(most).toBe(3);
    expect(report.checks).toHaveLength(9);
    expect(report.exitCode).toBe(0);
  });

  it('exit codes: 0 all fine, 1 a warning, 2 an error', async () => {
    const one = (v: ReturnType<typeof ok>) => [timedCheck('a', async () => ok('a')), timedCheck('b', async () => v)];
    expect((await runDoctor(context, { checks: one(ok('b')) })).exitCode).toBe(0);
    expect((await runDoctor(context, { checks: one(warn('b')) })).exitCode).toBe(1);
    expect((await runDoctor(context, { checks: one(fail('b')) })).exitCode).toBe(2);
  });

  it('the whole healthy setup against the fakes: every check ✓ (exit 0), each id once', async () => {
    const report = await runDoctor(context);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    expect(new Set(report.checks.map((c) => c.id)).size).toBe(CHECKS.length);
  });

  it('local mode: the Google checks do not apply; local mode itself is a warning (exit 1)', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/firebridge-doctor-localmode-`);
    const config = loadConfig({ NODE_ENV: 'development', KEYS_DIR: `${dir}/keys`, LOCAL_STATE_DIR: `${dir}/state` });
    const report = await runDoctor({ ...context, config });
    expect(report).toMatchObject({ mode: 'local', status: 'warn', exitCode: 1 });
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => c.id)).toEqual(['unsafe-settings']);
    expect(report.checks.filter((c) => c.id !== 'unsafe-settings').every((c) => c.skipped === true)).toBe(true);
  });

  it('text: one line per check with ✓ / ⚠ / ✗, the name, what was found and what to do; then a summary', () => {
    const report = {
      status: 'error' as const,
      exitCode: 2 as const,
      checks: [
        { id: 'a', name: 'first', ...ok('fine') },
        { id: 'b', name: 'second', ...warn('old', 'rotate') },
        { id: 'c', name: 'third', ...fail('broken', 'fix it') },
      ],
    };
    expect(formatText(report)).toEqual(['✓ first: fine', '⚠ second: old → rotate', '✗ third: broken → fix it', '', '1 error, 1 warning (3 checks)']);
    expect(JSON.parse(formatJson(report))).toEqual(report);
  });

  it('an invalid configuration: one ✗ per bad setting, exit 2', () => {
    const err = ConfigError.all([new ConfigError('PORT', 'must be a whole number'), new ConfigError('TRUST_PROXY', '"x" is not an IP address')]);
    const report = configProblemsReport(err);
    expect(report.exitCode).toBe(2);
    expect(formatText(report).slice(0, 2)).toEqual([
      expect.stringMatching(/^✗ configuration: PORT: must be a whole number → fix PORT/),
      expect.stringMatching(/^✗ configuration: TRUST_PROXY: /),
    ]);
  });
});
