import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ChainWriter } from '../../src/audit/chain-writer';
import { verifyChain } from '../../src/audit/verify';
import { LogCapture } from '../../testkit/harness';

const KEY = Buffer.from('k'.repeat(40));

function tempLog(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-head-')), 'audit.log');
}

async function writeEvents(file: string, count: number, logger = pino({ level: 'silent' })): Promise<void> {
  const writer = new ChainWriter({ file, hmacKey: KEY, includeEmail: false, maxBytes: 0, clock: () => Date.UTC(2026, 0, 1), logger, autoFlush: false });
  for (let i = 0; i < count; i += 1) writer.record({ event: 'test.event', n: i + 1 });
  expect(await writer.flush()).toBe(true);
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

/**
 * README: "With AUDIT_HMAC_KEY_FILE ... without the key nobody can rewrite the log and its head consistently". The head
 * file is what catches lines cut from the end; if it is plain {"seq","hash"}, anyone who can write the folder cuts the
 * last lines and writes a head naming the new last line (its hash is right there in the line), and verify passes.
 */
describe('audit head file under AUDIT_HMAC_KEY_FILE', () => {
  it('lines cut from the end with a head rewritten to match (no key) are caught', async () => {
    const file = tempLog();
    await writeEvents(file, 5);
    expect((await verifyChain(file, { hmacKey: KEY })).ok).toBe(true);
    // The intruder drops seq 4 and 5 and writes the head a writer would have written after seq 3.
    const kept = lines(file).slice(0, 3);
    writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
    const last = JSON.parse(kept[2] as string) as { seq: number; hash: string };
    writeFileSync(`${file}.head`, `${JSON.stringify({ seq: last.seq, hash: last.hash })}\n`);
    const result = await verifyChain(file, { hmacKey: KEY });
    expect(result.ok).toBe(false);
    expect(result.broken).toMatchObject({ file: `${file}.head`, reason: expect.stringMatching(/HMAC/) });
  });

  it('the writer keeps a good head verifiable, and a restart after a forged head says so (and keeps the break visible)', async () => {
    const file = tempLog();
    await writeEvents(file, 3);
    await writeEvents(file, 2); // a restart resumes from its own (keyed) head
    expect(await verifyChain(file, { hmacKey: KEY })).toMatchObject({ ok: true, lastSeq: 5 });
    const kept = lines(file).slice(0, 3);
    writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
    const last = JSON.parse(kept[2] as string) as { seq: number; hash: string };
    writeFileSync(`${file}.head`, `${JSON.stringify({ seq: last.seq, hash: last.hash })}\n`);
    const logs = new LogCapture();
    await writeEvents(file, 1, pino({ level: 'info' }, logs));
    expect(logs.text).toMatch(/head file has no valid HMAC/);
    expect(lines(file).map((l) => (JSON.parse(l) as { event: string }).event)).toContain('audit.head_mismatch');
  });

  it('a plain SHA-256 chain keeps the head as {"seq","hash"}', async () => {
    const file = tempLog();
    const writer = new ChainWriter({ file, includeEmail: false, maxBytes: 0, clock: () => 0, logger: pino({ level: 'silent' }), autoFlush: false });
    writer.record({ event: 'test.event' });
    expect(await writer.flush()).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(`${file}.head`, 'utf8')) as object)).toEqual(['seq', 'hash']);
  });
});
