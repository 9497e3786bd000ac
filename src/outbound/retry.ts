export interface RetryOptions {
  /** Extra attempts after the first (0: no retry). Use 0 for anything single-use. */
  retries: number;
  /** Base of the exponential back-off; each wait is a random value in [0, base * 2^attempt] (full jitter). */
  baseDelayMs: number;
  /** Whether a failure is worth another attempt (transient: timeouts, 5xx, 429). */
  retryable: (err: unknown) => boolean;
  /** Milliseconds left of the caller's deadline: no retry is started that could not finish in it. */
  remainingMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Bounded retries with full jitter, only for calls that are safe to repeat. */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= options.retries || !options.retryable(err)) throw err;
      const delay = Math.floor(random() * options.baseDelayMs * 2 ** attempt);
      if (options.remainingMs && options.remainingMs() <= delay) throw err;
      await sleep(delay);
    }
  }
}
