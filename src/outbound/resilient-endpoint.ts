import type { Clock } from '../clock';
import { GoogleApiError } from '../errors';
import { CircuitBreaker } from './circuit-breaker';
import { withRetries } from './retry';

/** A failure worth another attempt: no answer (network, timeout), 429 or 5xx. */
export function isTransientGoogleError(err: unknown): boolean {
  return err instanceof GoogleApiError && (err.httpStatus === undefined || err.httpStatus === 429 || err.httpStatus >= 500);
}

/**
 * One Google endpoint's call policy, for calls that are safe to repeat (lookups, signBlob,
 * token grants; never a single-use code or a create): transient failures are retried twice with
 * full jitter, and a circuit breaker stops calling while the endpoint keeps failing. Retries sit
 * outside the circuit, so every attempt counts toward opening it and an open circuit ends them.
 */
export class ResilientEndpoint {
  private readonly circuit: CircuitBreaker;

  constructor(
    readonly name: string,
    clock: Clock,
    private readonly retries = 2,
  ) {
    this.circuit = new CircuitBreaker({ name, clock });
  }

  get state(): CircuitBreaker['state'] {
    return this.circuit.state;
  }

  /**
   * `remainingMs`: what is left of the caller's deadline; no retry starts past it. `once`: a call
   * that must not be repeated (a create) still counts toward the circuit, but is never retried.
   */
  call<T>(attempt: () => Promise<T>, options: { remainingMs?: () => number; once?: boolean } = {}): Promise<T> {
    const { remainingMs, once = false } = options;
    return withRetries(() => this.circuit.run(attempt), {
      retries: once ? 0 : this.retries,
      baseDelayMs: 100,
      retryable: isTransientGoogleError,
      remainingMs,
    });
  }
}
