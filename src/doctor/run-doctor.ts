import type { Config } from '../config';
import { type CheckResult, type CheckStatus, type DoctorCheck, type DoctorContext, fail, reasonOf } from './check';
import { clientIdsCheck } from './client-ids';
import { clockSkewCheck } from './clock-skew';
import { databaseCheck } from './database';
import { fcmCheck } from './fcm';
import { keyActiveCheck } from './key-active';
import { keyAgeCheck } from './key-age';
import { keyFilesCheck } from './key-files';
import { firebaseKeySetCheck, googleKeySetCheck } from './key-sets';
import { keylessSigningCheck } from './keyless-signing';
import { redisCheck } from './redis';
import { unsafeSettingsCheck } from './unsafe-settings';

/** Every check, in the order they are reported. */
export const CHECKS: readonly DoctorCheck[] = [
  keyFilesCheck,
  keyAgeCheck,
  keyActiveCheck,
  keylessSigningCheck,
  clientIdsCheck,
  googleKeySetCheck,
  firebaseKeySetCheck,
  clockSkewCheck,
  redisCheck,
  databaseCheck,
  fcmCheck,
  unsafeSettingsCheck,
];

/** Checks run at once, at most (each makes a few outbound calls). */
export const DOCTOR_CONCURRENCY = 4;

export interface DoctorReport {
  /** The worst status found. */
  status: CheckStatus;
  /** 0 all fine, 1 warnings, 2 errors. */
  exitCode: 0 | 1 | 2;
  /** undefined when the configuration itself is invalid. */
  mode?: Config['mode'];
  checks: CheckResult[];
}

export function summarize(checks: CheckResult[], mode?: Config['mode']): DoctorReport {
  const status: CheckStatus = checks.some((c) => c.status === 'error') ? 'error' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';
  return { status, exitCode: status === 'error' ? 2 : status === 'warn' ? 1 : 0, ...(mode ? { mode } : {}), checks };
}

/**
 * The longest a check may take: every outbound call it makes has its own timeout (the settings'), so
 * this is only a backstop, above the longest of them.
 */
export function checkDeadlineMs(config: Config): number {
  const timeouts = [config.certsFetchTimeoutMs, 5000];
  if (config.mode === 'configured') timeouts.push(config.googleApis.timeoutMs * 2, config.push.fcm.timeoutMs * 2);
  return Math.max(...timeouts) + 5000;
}

async function runOne(check: DoctorCheck, context: DoctorContext, deadlineMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('deadline')), deadlineMs);
  });
  try {
    const verdict = await Promise.race([check.run(context), deadline]);
    return { id: check.id, name: check.name, ...verdict };
  } catch (err) {
    const message =
      (err as Error | undefined)?.message === 'deadline'
        ? `did not finish within ${deadlineMs} ms`
        : `the check itself failed: ${reasonOf(err)}`;
    return { id: check.id, name: check.name, ...fail(message) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the checks, at most `concurrency` at a time; each is independent (one failing, throwing or
 * hanging never stops another). Results come back in the checks' order.
 */
export async function runDoctor(
  context: DoctorContext,
  options: { checks?: readonly DoctorCheck[]; concurrency?: number; deadlineMs?: number } = {},
): Promise<DoctorReport> {
  const { checks = CHECKS, concurrency = DOCTOR_CONCURRENCY } = options;
  const results: CheckResult[] = new Array(checks.length);
  const deadlineMs = options.deadlineMs ?? checkDeadlineMs(context.config);
  let next = 0;
  const worker = async () => {
    // Bounded: each pass takes one check, and there are checks.length of them.
    while (next < checks.length) {
      const index = next;
      next += 1;
      results[index] = await runOne(checks[index] as DoctorCheck, context, deadlineMs);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, checks.length)) }, worker));
  return summarize(results, context.config.mode);
}
