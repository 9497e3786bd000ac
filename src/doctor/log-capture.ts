import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/**
 * A logger for the server's components that keeps what they log at warn and above, so a check can quote
 * their reason (their messages never carry a key or token: the components are written that way).
 * Bounded: at most 20 lines are kept.
 */
export function captureLogs(): { logger: Logger; reasons(): string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '' || lines.length >= 20) continue;
        try {
          const entry = JSON.parse(line) as { msg?: unknown; err?: unknown };
          const err = typeof entry.err === 'string' ? `: ${entry.err}` : '';
          lines.push(`${String(entry.msg ?? '')}${err}`.replace(/\s+/g, ' ').trim());
        } catch {
          // not a pino line: ignored
        }
      }
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), reasons: () => [...lines] };
}
