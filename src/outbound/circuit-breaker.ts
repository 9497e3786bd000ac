import type { Clock } from '../clock';
import { CircuitOpenError } from '../errors';

export interface CircuitBreakerOptions {
  name: string;
  clock: Clock;
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through. */
  openMs?: number;
}

/**
 * Stops hammering a failing endpoint: after `failureThreshold` consecutive failures the circuit
 * opens and calls fail at once (CircuitOpenError) for `openMs`; then a single trial call is let
 * through (half-open): success closes the circuit, failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;
  private readonly threshold: number;
  private readonly openMs: number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.threshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 10_000;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.options.clock() < this.openUntil ? 'open' : 'half-open';
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      throw new CircuitOpenError(`${this.options.name}: circuit open after ${this.failures} consecutive failures`);
    }
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await call();
      this.failures = 0;
      return result;
    } catch (err) {
      this.failures += 1;
      if (this.failures >= this.threshold) this.openUntil = this.options.clock() + this.openMs;
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }
}
