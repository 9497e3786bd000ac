import { CircuitOpenError, GoogleApiError } from '../../src/errors';
import { CircuitBreaker } from '../../src/outbound/circuit-breaker';
import { ResilientEndpoint, isTransientGoogleError } from '../../src/outbound/resilient-endpoint';
import { withRetries } from '../../src/outbound/retry';
import { manualClock } from '../../testkit/harness';

describe('withRetries', () => {
  const noSleep = { sleep: async () => undefined, random: () => 0.5 };

  it('retries transient failures up to the bound, then gives up', async () => {
    let calls = 0;
    const failing = () => {
      calls += 1;
      return Promise.reject(new Error('503'));
    };
    await expect(withRetries(failing, { retries: 2, baseDelayMs: 10, retryable: () => true, ...noSleep })).rejects.toThrow('503');
    expect(calls).toBe(3);
  });

  it('never retries what is not retryable (e.g. a single-use code, a 4xx)', async () => {
    let calls = 0;
    await expect(
      withRetries(
        () => {
          calls += 1;
          return Promise.reject(new Error('400'));
        },
        { retries: 5, baseDelayMs: 10, retryable: () => false, ...noSleep },
      ),
    ).rejects.toThrow('400');
    expect(calls).toBe(1);
  });

  it('waits with full jitter, growing exponentially', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls += 1;
        if (calls < 4) throw new Error('flaky');
        return 'ok';
      },
      { retries: 3, baseDelayMs: 100, retryable: () => true, sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([50, 100, 200]);
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, fails fast while open, lets one trial through, closes on success', async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ name: 'x', clock, failureThreshold: 3, openMs: 1000 });
    let calls = 0;
    const fail = () => {
      calls += 1;
      return Promise.reject(new Error('down'));
    };
    for (let i = 0; i < 3; i++) await expect(breaker.run(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await expect(breaker.run(fail)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(3); // the open circuit did not call

    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    let release!: () => void;
    const trial = breaker.run(() => new Promise<string>((resolve) => (release = () => resolve('up'))));
    await expect(breaker.run(fail)).rejects.toBeInstanceOf(CircuitOpenError); // only one trial at a time
    release();
    expect(await trial).toBe('up');
    expect(breaker.state).toBe('closed');
  });

  it('a failed trial opens it again', async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ name: 'x', clock, failureThreshold: 1, openMs: 500 });
    await expect(breaker.run(() => Promise.reject(new Error('a')))).rejects.toThrow('a');
    clock.advance(500);
    await expect(breaker.run(() => Promise.reject(new Error('b')))).rejects.toThrow('b');
    expect(breaker.state).toBe('open');
  });

  it('a success resets the failure count', async () => {
    const clock = manualClock();
    const breaker = new CircuitBreaker({ name: 'x', clock, failureThreshold: 2 });
    await expect(breaker.run(() => Promise.reject(new Error('a')))).rejects.toThrow();
    await breaker.run(async () => 'ok');
    await expect(breaker.run(() => Promise.reject(new Error('a')))).rejects.toThrow();
    expect(breaker.state).toBe('closed');
  });
});

describe('ResilientEndpoint (Google calls that are safe to repeat)', () => {
  it('retries no answer, 429 and 5xx; never 4xx or other errors', () => {
    expect(isTransientGoogleError(new GoogleApiError('timeout'))).toBe(true);
    expect(isTransientGoogleError(new GoogleApiError('x', 429))).toBe(true);
    expect(isTransientGoogleError(new GoogleApiError('x', 503))).toBe(true);
    expect(isTransientGoogleError(new GoogleApiError('x', 400))).toBe(false);
    expect(isTransientGoogleError(new GoogleApiError('x', 403))).toBe(false);
    expect(isTransientGoogleError(new Error('x'))).toBe(false);
  });

  it('a transient failure is retried and the call succeeds; a 4xx is not retried', async () => {
    const endpoint = new ResilientEndpoint('t', manualClock());
    let calls = 0;
    const value = await endpoint.call(async () => {
      calls += 1;
      if (calls === 1) throw new GoogleApiError('down', 503);
      return 'signed';
    });
    expect([value, calls]).toEqual(['signed', 2]);
    calls = 0;
    await expect(
      endpoint.call(async () => {
        calls += 1;
        throw new GoogleApiError('denied', 403);
      }),
    ).rejects.toThrow('denied');
    expect(calls).toBe(1);
  });

  it('five consecutive failed attempts open the circuit: later calls do not reach the endpoint', async () => {
    const endpoint = new ResilientEndpoint('t', manualClock());
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new GoogleApiError('down', 500);
    };
    await expect(endpoint.call(failing)).rejects.toThrow('down'); // 3 attempts
    await expect(endpoint.call(failing)).rejects.toBeInstanceOf(CircuitOpenError); // 2 more, then open
    expect(calls).toBe(5);
    await expect(endpoint.call(failing)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(5);
  });
});
