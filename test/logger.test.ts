import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { LogCapture } from '../testkit/harness';

describe('createLogger', () => {
  it('writes one JSON object a line by default', () => {
    const logs = new LogCapture();
    createLogger('info', logs).info({ route: '/v1/me', status: 200 }, 'request done');
    const [entry] = logs.entries();
    expect(entry).toMatchObject({ msg: 'request done', route: '/v1/me', status: 200, service: 'firebridge', level: 30 });
  });

  it('pretty: a line a person reads, with the level, message and fields, and no JSON braces', () => {
    const logs = new LogCapture();
    createLogger('info', logs, 'pretty').warn({ route: '/v1/me', status: 401 }, 'token refused');
    const text = logs.text;
    expect(text).toMatch(/WARN/);
    expect(text).toContain('token refused');
    expect(text).toMatch(/route: "\/v1\/me"/);
    expect(text).toMatch(/status: 401/);
    expect(() => JSON.parse(logs.lines[0]!)).toThrow();
  });

  it.each(['json', 'pretty'] as const)('%s: redacts a secret before it is formatted', (format) => {
    const logs = new LogCapture();
    const secret = 'eyJhbGciOiJSUzI1NiJ9.secret-token-value.sig';
    createLogger('info', logs, format).info({ idToken: secret, req: { authorization: `Bearer ${secret}` } }, 'oops');
    expect(logs.text).not.toContain('secret-token-value');
    expect(logs.text).toContain('[redacted]');
  });

  it('honours the level in both formats', () => {
    for (const format of ['json', 'pretty'] as const) {
      const logs = new LogCapture();
      const logger = createLogger('warn', logs, format);
      logger.info('quiet');
      logger.error('loud');
      expect(logs.text).not.toContain('quiet');
      expect(logs.text).toContain('loud');
    }
  });
});

describe('LOG_FORMAT', () => {
  const local = { NODE_ENV: 'development' };
  const cwd = mkdtempSync(path.join(tmpdir(), 'firebridge-logformat-'));
  it('defaults to json and takes pretty in development', () => {
    expect(loadConfig(local, cwd).logFormat).toBe('json');
    expect(loadConfig({ ...local, LOG_FORMAT: 'pretty' }, cwd).logFormat).toBe('pretty');
  });
  it('refuses an unknown format and pretty in production, naming the setting', () => {
    expect(() => loadConfig({ ...local, LOG_FORMAT: 'xml' }, cwd)).toThrow(/LOG_FORMAT/);
    expect(() => loadConfig({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }, cwd)).toThrow(
      /LOG_FORMAT.*development/,
    );
  });
});
