import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { FirebridgeError } from '../errors';
import type { FetchFn } from '../outbound/fetch';

/**
 * One check of `npm run doctor`: it looks for one kind of fault and says what to do about it. Checks are
 * independent (each reads the configuration itself; one failing never stops another) and each bounds
 * its own outbound calls (timeouts, no redirects, capped bodies, through the server's own clients).
 */

/** ✓ fine, ⚠ works but should be fixed (exit 1), ✗ broken (exit 2). */
export type CheckStatus = 'ok' | 'warn' | 'error';

export interface Verdict {
  status: CheckStatus;
  /** What was found, on one line: never a key, token or secret. */
  message: string;
  /** What to do about it (absent when nothing needs doing). */
  fix?: string;
  /** The check did not run: it does not apply (status ok), or something it needs is broken (status warn). */
  skipped?: boolean;
}

export interface CheckResult extends Verdict {
  /** Stable identifier (for --json consumers). */
  id: string;
  /** Short human name. */
  name: string;
}

/** What every check gets: the validated configuration and the injected fetch, clock and (silent) logger. */
export interface DoctorContext {
  config: Config;
  fetch: FetchFn;
  clock: Clock;
  /** The server's components log through it; checks that want their reasons capture it (see log-capture.ts). */
  logger: Logger;
}

export interface DoctorCheck {
  id: string;
  name: string;
  run(context: DoctorContext): Promise<Verdict>;
}

export const ok = (message: string): Verdict => ({ status: 'ok', message });
export const warn = (message: string, fix?: string): Verdict => ({ status: 'warn', message, ...(fix !== undefined ? { fix } : {}) });
export const fail = (message: string, fix?: string): Verdict => ({ status: 'error', message, ...(fix !== undefined ? { fix } : {}) });
/** Does not apply to this configuration (shown as ✓). */
export const notApplicable = (message: string): Verdict => ({ status: 'ok', message, skipped: true });
/** Could not run because something it needs is broken (another check names it; shown as ⚠). */
export const blocked = (message: string, fix?: string): Verdict => ({ ...warn(message, fix), skipped: true });

/**
 * A one-line reason that never carries a secret: firebridge's own errors say what went wrong without
 * one; anything else (a driver's error, which may quote a connection string) is named, not quoted.
 */
export function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  const text =
    err instanceof FirebridgeError
      ? err.message
      : `${(err as Error | undefined)?.name ?? 'error'}${typeof code === 'string' ? ` (${code})` : ''}`;
  return text.replace(/\s+/g, ' ').trim();
}
