import { type ErrorCode, failureOutcome, failureReason } from './errors';

/** What one operation came to, as the metrics label it. */
export type Outcome = 'success' | 'refused' | 'error';

export interface OutcomeCount {
  outcome: Outcome;
  /** `none` for successes; else an error code, `internal`, or the caller's own fixed reason (FCM's). */
  reason: string;
  count: number;
}

/** The reason of every success. */
export const NO_REASON = 'none';

/**
 * Counts of one operation's outcomes (exchanges, verifications, FCM sends...), kept by the component
 * itself and read by the metrics at scrape time: a success costs one addition, a failure one map
 * update keyed by its error code. The labels are a fixed small set by construction: `outcome` is one
 * of three words, `reason` an ErrorCode (or `internal`), never anything taken from a request.
 */
export class OutcomeCounts {
  private successes = 0;
  private readonly failures = new Map<string, OutcomeCount>();

  succeeded(): void {
    this.successes += 1;
  }

  /**
   * A failure, labelled by its error (failureOutcome, failureReason). `reason` replaces the error's code
   * with a finer one from a fixed set the caller owns (an FCM PushFailureReason).
   */
  failed(err: unknown, reason?: string): void {
    const outcome = failureOutcome(err);
    const why: ErrorCode | 'internal' | string = reason ?? failureReason(err);
    const key = `${outcome} ${why}`;
    const entry = this.failures.get(key);
    if (entry) entry.count += 1;
    else this.failures.set(key, { outcome, reason: why, count: 1 });
  }

  /** Every count so far; the success row is always there (0 before the first), so the series exists from the start. */
  entries(): OutcomeCount[] {
    return [{ outcome: 'success', reason: NO_REASON, count: this.successes }, ...[...this.failures.values()].map((e) => ({ ...e }))];
  }

  /** The count of one outcome and reason (tests, readiness). */
  count(outcome: Outcome, reason: string = NO_REASON): number {
    if (outcome === 'success') return reason === NO_REASON ? this.successes : 0;
    return this.failures.get(`${outcome} ${reason}`)?.count ?? 0;
  }
}
