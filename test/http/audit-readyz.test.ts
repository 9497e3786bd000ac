import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { type AuditFs, nodeAuditFs } from '../../src/audit/audit-fs';
import { ChainWriter } from '../../src/audit/chain-writer';
import { verifyChain } from '../../src/audit/verify';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, bridgeFor } from '../../testkit/harness';
import { scrape } from '../../testkit/metrics';

/** nodeAuditFs whose appends fail with ENOSPC while `full` is set: a full disk. */
function fillableFs(): AuditFs & { full: boolean } {
  const fs = {
    ...nodeAuditFs,
    full: false,
    async append(file: string, text: string) {
      if (fs.full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      await nodeAuditFs.append(file, text);
    },
  };
  return fs;
}

describe('an audit log that cannot be written: /readyz says so, requests go on, nothing crashes', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('AUDIT_LOG under a regular file (unwritable): exchanges still answer 200, /readyz is 503, the failure is logged once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'firebridge-audit-bad-'));
    writeFileSync(path.join(dir, 'not-a-folder'), '');
    const bridge = bridgeFor(fake, { env: { AUDIT_LOG: path.join(dir, 'not-a-folder', 'audit.log') } });
    await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
    expect(await bridge.deps.audit.flush()).toBe(false);
    expect(await bridge.deps.audit.flush()).toBe(false);
    const res = await request(bridge.app).get('/readyz').expect(503);
    expect(res.body).toMatchObject({ status: 'not_ready', reason: 'audit log cannot be written', audit: { writable: false, error: expect.stringMatching(/^E[A-Z]+$/), dropped: 0 } });
    expect(res.body.audit.pending).toBeGreaterThanOrEqual(2);
    expect(bridge.logs.lines.filter((l) => l.includes('audit log cannot be written'))).toHaveLength(1);
    await bridge.deps.audit.close();
  });

  it('a full disk (injected): the queue is bounded, drops are counted on /readyz; once space is back, everything kept is written and verifies', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-full-')), 'audit.log');
    const fs = fillableFs();
    const logs = new LogCapture();
    const audit = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: pino(logs), fs, maxPending: 4, autoFlush: false });
    const bridge = bridgeFor(fake, { audit });
    expect(await audit.flush()).toBe(true); // key.load
    await request(bridge.app).get('/readyz').expect(200);
    fs.full = true;
    for (let i = 0; i < 3; i += 1) await request(bridge.app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
    expect(await audit.flush()).toBe(false);
    for (let i = 0; i < 3; i += 1) audit.record({ event: 'test.more', n: i });
    const down = await request(bridge.app).get('/readyz').expect(503);
    expect(down.body.audit).toEqual({ writable: false, error: 'ENOSPC', pending: 4, dropped: 2 });
    expect(logs.lines.filter((l) => l.includes('audit queue full'))).toHaveLength(1);
    // ... and in the metrics, for the alert (examples/prometheus/alerts.yml: FirebridgeAuditLogUnwritable).
    const full = await scrape(bridge.app);
    expect([full.value('firebridge_audit_writable'), full.value('firebridge_audit_pending_events'), full.value('firebridge_audit_dropped_events_total')]).toEqual([0, 4, 2]);
    fs.full = false;
    expect(await audit.flush()).toBe(true);
    const up = await request(bridge.app).get('/readyz').expect(200);
    expect(up.body.audit).toEqual({ writable: true, pending: 0, dropped: 2 });
    const back = await scrape(bridge.app);
    expect([back.value('firebridge_audit_writable'), back.value('firebridge_audit_pending_events'), back.value('firebridge_audit_dropped_events_total')]).toEqual([1, 0, 2]);
    expect(await verifyChain(file)).toMatchObject({ ok: true, lines: 5 });
    expect(logs.text).toMatch(/audit log writable again/);
  });

  it('a folder removed under the writer: reported, then written again in a new file whose first line shows the gap', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-gone-')), 'logs');
    const file = path.join(dir, 'audit.log');
    const audit = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: pino({ level: 'silent' }), autoFlush: false });
    audit.record({ event: 'one' });
    expect(await audit.flush()).toBe(true);
    rmSync(dir, { recursive: true });
    audit.record({ event: 'two' });
    expect(await audit.flush()).toBe(false);
    expect(audit.status()).toMatchObject({ writable: false, error: 'ENOENT', pending: 1 });
    expect(await audit.flush()).toBe(true);
    expect((await verifyChain(file)).broken).toMatchObject({ file, line: 1, reason: expect.stringMatching(/seq 2 where 1 was expected/) });
  });

  it('automatic flushing: record() returns at once, the line lands soon after, without a flush call', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-audit-auto-')), 'audit.log');
    const audit = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: Date.now, logger: pino({ level: 'silent' }) });
    audit.record({ event: 'auto' });
    expect(audit.status().pending).toBe(1);
    for (let i = 0; i < 200 && audit.status().lastSeq === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(audit.status()).toMatchObject({ lastSeq: 1, pending: 0 });
    await audit.close();
  });
});
