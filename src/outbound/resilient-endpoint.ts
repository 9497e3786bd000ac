import type { Clock } from '../clock';
import { GoogleApiError } from '../keys/google-http';
import { CircuitBreaker } from './circuit-breaker';
import { withRetries } from './retry';

/** A failure worth another attempt: no answer (network, timeout), 429 or 5xx. */
export function isTransientGoogleError(err: unknown): boolean {
  return err instanceof GoogleApiError && (err.status === undefined || err.status === 429 || err.status >= 500);
}

/**
 * One Google endpoint's call policy, for calls that are safe to repeat (lookups, signBlob,
 * token grants; never a single-use code or a create): transient failures are retried twice with
 * full jitter, and a circuit breaker stops calling while the endpoint keeps failing. Retries sit
 * outside the circuit, so every attempt counts toward opening it and an open circuit ends them.
 */
export class ResilientEndpoint {
  private readonly circuit: CircuitBreaker;

  constructor(name: string, clock: Clock, private readonly retries = 2) {
    this.circuit = new CircuitBreaker({ name, clock });
  }

  call<T>(attempt: () => Promise<T>): Promise<T> {
    return withRetries(() => this.circuit.run(attempt), {
      retries: this.retries,
      baseDelayMs: 100,
      retryable: isTransientGoogleError,
    });
  }
}
